/**
 * OTLP/JSON encoder (OTLP spec §JSON Protobuf Encoding): trace and span ids as hex strings,
 * lowerCamelCase field names, enums as integers, 64-bit integers (times, `intValue`) as decimal
 * strings. Built as one string rather than an object tree that JSON.stringify walks again.
 */
import type { Attributes, AttributeValue, ReadableSpan, SpanLink } from '../span.js'
import { nanosString } from './nanos.js'
import { groupByResourceAndScope } from './otlp-grouping.js'
import { spanFlags } from './otlp-proto.js'

const q = JSON.stringify

/** Encodes spans as an OTLP `ExportTraceServiceRequest` in JSON text. */
export function encodeTraceRequestJson(spans: readonly ReadableSpan[]): string {
  let out = '{"resourceSpans":['
  let firstResource = true
  for (const group of groupByResourceAndScope(spans)) {
    out += `${firstResource ? '' : ','}{"resource":{"attributes":${attributes(group.resource.attributes)}},"scopeSpans":[`
    firstResource = false
    let firstScope = true
    for (const { scope, spans: list } of group.scopes) {
      out += `${firstScope ? '' : ','}{"scope":{"name":${q(scope.name)}${scope.version ? `,"version":${q(scope.version)}` : ''}},"spans":[`
      firstScope = false
      for (let i = 0; i < list.length; i++) out += (i ? ',' : '') + span(list[i] as ReadableSpan)
      out += ']'
      if (scope.schemaUrl) out += `,"schemaUrl":${q(scope.schemaUrl)}`
      out += '}'
    }
    out += ']'
    if (group.resource.schemaUrl) out += `,"schemaUrl":${q(group.resource.schemaUrl)}`
    out += '}'
  }
  return `${out}]}`
}

// hot path: one call per span; ids are already hex and need no escaping.
function span(s: ReadableSpan): string {
  const sc = s.spanContext()
  const parent = s.parentSpanContext
  let out = `{"traceId":"${sc.traceId}","spanId":"${sc.spanId}"`
  const traceState = sc.traceState?.serialize()
  if (traceState) out += `,"traceState":${q(traceState)}`
  if (parent?.spanId) out += `,"parentSpanId":"${parent.spanId}"`
  out += `,"flags":${spanFlags(sc.traceFlags, parent?.isRemote)},"name":${q(s.name)},"kind":${s.kind + 1}`
  out += `,"startTimeUnixNano":"${nanosString(s.startTime)}","endTimeUnixNano":"${nanosString(s.endTime)}"`
  out += `,"attributes":${attributes(s.attributes)}`
  if (s.droppedAttributesCount) out += `,"droppedAttributesCount":${s.droppedAttributesCount}`
  if (s.events.length > 0) {
    out += ',"events":['
    for (let i = 0; i < s.events.length; i++) {
      const e = s.events[i]!
      out += `${i ? ',' : ''}{"timeUnixNano":"${nanosString(e.time)}","name":${q(e.name)},"attributes":${attributes(e.attributes)}`
      if (e.droppedAttributesCount) out += `,"droppedAttributesCount":${e.droppedAttributesCount}`
      out += '}'
    }
    out += ']'
  }
  if (s.droppedEventsCount) out += `,"droppedEventsCount":${s.droppedEventsCount}`
  if (s.links.length > 0) {
    out += ',"links":['
    for (let i = 0; i < s.links.length; i++) out += (i ? ',' : '') + link(s.links[i]!)
    out += ']'
  }
  if (s.droppedLinksCount) out += `,"droppedLinksCount":${s.droppedLinksCount}`
  const status = s.status
  if (status.code || status.message) {
    out += `,"status":{${status.message ? `"message":${q(status.message)},` : ''}"code":${status.code}}`
  }
  return `${out}}`
}

function link(l: SpanLink): string {
  const ctx = l.context
  let out = `{"traceId":"${ctx.traceId}","spanId":"${ctx.spanId}"`
  const traceState = ctx.traceState?.serialize()
  if (traceState) out += `,"traceState":${q(traceState)}`
  out += `,"attributes":${attributes(l.attributes ?? {})}`
  if (l.droppedAttributesCount) out += `,"droppedAttributesCount":${l.droppedAttributesCount}`
  return `${out},"flags":${spanFlags(ctx.traceFlags, ctx.isRemote)}}`
}

function attributes(attrs: Attributes): string {
  let out = '['
  let first = true
  for (const key in attrs) {
    const value = attrs[key]
    if (value === undefined || value === null) continue
    out += `${first ? '' : ','}{"key":${q(key)},"value":${anyValue(value)}}`
    first = false
  }
  return `${out}]`
}

function anyValue(value: AttributeValue | null | undefined): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${q(value)}}`
    case 'boolean':
      return value ? '{"boolValue":true}' : '{"boolValue":false}'
    case 'number':
      if (Number.isSafeInteger(value)) return `{"intValue":"${value}"}`
      // proto3 JSON: non-finite doubles are the strings "NaN", "Infinity", "-Infinity"
      return Number.isFinite(value) ? `{"doubleValue":${value}}` : `{"doubleValue":"${value}"}`
    case 'object':
      if (Array.isArray(value)) {
        let out = '{"arrayValue":{"values":['
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + anyValue(value[i])
        return `${out}]}}`
      }
      return '{}'
    default:
      return '{}'
  }
}
