import {
  decodeTraceRequestJson,
  decodeTraceRequestProto,
  type OtlpAttributes,
  type OtlpDecodeResult,
  type OtlpEvent,
  type OtlpLink,
  type OtlpValue,
} from '@threadline/core/otlp'
import type { Attrs, AttrValue, StatusCodeName, StoredEvent, StoredLink } from '../model.js'
import { accept, clampString, type DecodeResult, kindFromNumber, LIMITS, newResult, reject } from './limits.js'

export type OtlpFormat = 'protobuf' | 'json'

/**
 * Decodes an `ExportTraceServiceRequest` with core's decoders (`@threadline/core/otlp`) and maps
 * its model onto the viewer's. A string is the reason the whole body was refused.
 */
export function decodeOtlp(body: Buffer, format: OtlpFormat): DecodeResult | string {
  const decoded: OtlpDecodeResult = format === 'json' ? decodeTraceRequestJson(body) : decodeTraceRequestProto(body)
  if (!decoded.ok) return `${decoded.error.message} [${decoded.error.code}]`
  const result = newResult()
  for (let i = 0; i < decoded.rejectedSpans; i++) reject(result, decoded.rejectReason ?? 'invalid trace or span id')
  for (const rs of decoded.request.resourceSpans) {
    const resource = attributes(rs.resource.attributes).attrs
    for (const ss of rs.scopeSpans) {
      const scope = ss.scope.name
        ? {
            name: clampString(ss.scope.name, LIMITS.nameLength),
            ...(ss.scope.version ? { version: clampString(ss.scope.version, 256) } : {}),
          }
        : undefined
      for (const span of ss.spans) {
        // hot path: one object of a fixed shape per span; absent optional fields stay undefined
        const { attrs, dropped } = attributes(span.attributes)
        const events: StoredEvent[] = span.events.length === 0 ? [] : eventsOf(span.events)
        const links: StoredLink[] = span.links.length === 0 ? [] : linksOf(span.links)
        const droppedAttributes = dropped + span.droppedAttributesCount
        const droppedEvents = span.droppedEventsCount + Math.max(0, span.events.length - LIMITS.events)
        const droppedLinks = span.droppedLinksCount + Math.max(0, span.links.length - LIMITS.links)
        const code: StatusCodeName = span.status.code === 2 ? 'ERROR' : span.status.code === 1 ? 'OK' : 'UNSET'
        accept(result, {
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
          name: span.name,
          kind: kindFromNumber(span.kind),
          startUs: span.startTimeUnixNano > 0n ? micros(span.startTimeUnixNano) : Number.NaN,
          durationUs:
            span.endTimeUnixNano > 0n ? Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1000 : Number.NaN,
          status: span.status.message ? { code, message: clampString(span.status.message) } : { code },
          attributes: attrs,
          events,
          links,
          resource,
          scope,
          traceState: span.traceState ? clampString(span.traceState, 512) : undefined,
          droppedAttributesCount: droppedAttributes || undefined,
          droppedEventsCount: droppedEvents || undefined,
          droppedLinksCount: droppedLinks || undefined,
        })
      }
    }
  }
  return result
}

function eventsOf(events: readonly OtlpEvent[]): StoredEvent[] {
  const out: StoredEvent[] = []
  for (const e of events.slice(0, LIMITS.events)) {
    const ea = attributes(e.attributes)
    const dropped = ea.dropped + e.droppedAttributesCount
    out.push({
      name: clampString(e.name, LIMITS.nameLength),
      timeUs: micros(e.timeUnixNano),
      attributes: ea.attrs,
      ...(dropped ? { droppedAttributesCount: dropped } : {}),
    })
  }
  return out
}

function linksOf(links: readonly OtlpLink[]): StoredLink[] {
  const out: StoredLink[] = []
  for (const l of links.slice(0, LIMITS.links)) {
    out.push({
      traceId: l.traceId,
      spanId: l.spanId,
      ...(l.traceState ? { traceState: clampString(l.traceState, 512) } : {}),
      attributes: attributes(l.attributes).attrs,
    })
  }
  return out
}

export function summarizeRejections(result: DecodeResult): string {
  return `${result.rejected} span(s) rejected: ${result.reasons.join('; ')}`
}

/** Epoch nanoseconds → microseconds, exact to the microsecond, fraction kept as far as a double allows. */
export function micros(ns: bigint): number {
  return Number(ns / 1000n) + Number(ns % 1000n) / 1000
}

function attributes(source: OtlpAttributes): { attrs: Attrs; dropped: number } {
  const attrs: Attrs = {}
  let n = 0
  let dropped = 0
  for (const key in source) {
    if (n >= LIMITS.attributes) {
      dropped++
      continue
    }
    attrs[clampString(key, LIMITS.nameLength)] = value(source[key]!, 0)
    n++
  }
  return { attrs, dropped }
}

function value(v: OtlpValue, depth: number): AttrValue {
  if (typeof v === 'string') return clampString(v)
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Uint8Array) return clampString(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'))
  if (depth >= LIMITS.depth) return null
  if (Array.isArray(v)) return v.slice(0, LIMITS.arrayLength).map((x) => value(x, depth + 1))
  const out: Record<string, AttrValue> = {}
  let n = 0
  for (const key in v) {
    if (n++ >= LIMITS.arrayLength) break
    out[clampString(key, LIMITS.nameLength)] = value(v[key]!, depth + 1)
  }
  return out
}
