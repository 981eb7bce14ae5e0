import {
  decodeTraceRequestJson,
  decodeTraceRequestProto,
  type OtlpAttributes,
  type OtlpDecodeResult,
  type OtlpEvent,
  type OtlpLink,
  type OtlpValue,
} from '@threadline/core/otlp'
import type { Attrs, AttrValue, StatusCodeName, StoredEvent, StoredLink, StoredSpan } from '../model.js'
import { accept, clampString, type DecodeResult, kindFromNumber, LIMITS, newResult, reject } from './limits.js'

export type OtlpFormat = 'protobuf' | 'json'

const STATUS_NAMES: readonly StatusCodeName[] = ['UNSET', 'OK', 'ERROR']
/** Statuses without a message, shared by every span that has one (nothing mutates a stored status). */
const STATUS: Readonly<Record<StatusCodeName, StoredSpan['status']>> = {
  UNSET: Object.freeze({ code: 'UNSET' }),
  OK: Object.freeze({ code: 'OK' }),
  ERROR: Object.freeze({ code: 'ERROR' }),
}

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
    const resource = attributes(rs.resource.attributes)
    for (const ss of rs.scopeSpans) {
      const scope = ss.scope.name
        ? {
            name: clampString(ss.scope.name, LIMITS.nameLength),
            ...(ss.scope.version ? { version: clampString(ss.scope.version, 256) } : {}),
          }
        : undefined
      for (const span of ss.spans) {
        // hot path: one object of a fixed shape per span; absent optional fields stay undefined
        const attrs = attributes(span.attributes)
        const dropped = leftOut
        // the decoder's empty arrays are fresh per span: keep them rather than allocate two more
        const events = span.events.length === 0 ? (span.events as unknown as StoredEvent[]) : eventsOf(span.events)
        const links = span.links.length === 0 ? (span.links as unknown as StoredLink[]) : linksOf(span.links)
        const droppedAttributes = dropped + span.droppedAttributesCount
        const droppedEvents = span.droppedEventsCount + Math.max(0, span.events.length - LIMITS.events)
        const droppedLinks = span.droppedLinksCount + Math.max(0, span.links.length - LIMITS.links)
        const code: StatusCodeName = STATUS_NAMES[span.status.code]!
        // the decoder checked the trace and span ids
        accept(
          result,
          {
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
            name: span.name,
            kind: kindFromNumber(span.kind),
            startUs: span.startTimeUnixNano > 0n ? micros(span.startTimeUnixNano) : Number.NaN,
            durationUs:
              span.endTimeUnixNano > 0n ? Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1000 : Number.NaN,
            status: span.status.message ? { code, message: clampString(span.status.message) } : STATUS[code],
            attributes: attrs,
            events,
            links,
            resource,
            scope,
            traceState: span.traceState ? clampString(span.traceState, 512) : undefined,
            droppedAttributesCount: droppedAttributes || undefined,
            droppedEventsCount: droppedEvents || undefined,
            droppedLinksCount: droppedLinks || undefined,
          },
          true,
        )
      }
    }
  }
  return result
}

function eventsOf(events: readonly OtlpEvent[]): StoredEvent[] {
  const out: StoredEvent[] = []
  for (const e of events.slice(0, LIMITS.events)) {
    const attrs = attributes(e.attributes)
    const dropped = leftOut + e.droppedAttributesCount
    out.push({
      name: clampString(e.name, LIMITS.nameLength),
      timeUs: micros(e.timeUnixNano),
      attributes: attrs,
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
      attributes: attributes(l.attributes),
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

/**
 * The decoded attributes within the viewer's limits. hot path: the decoder's fresh object is kept
 * and only values that break a limit (or are bytes) are replaced; a copy is made only when a key
 * is too long or there are too many keys (a copy per span cost ~8% of ingest CPU).
 */
function attributes(source: OtlpAttributes): Attrs {
  leftOut = 0
  let n = 0
  for (const key in source) {
    if (++n > LIMITS.attributes || key.length > LIMITS.nameLength) return copyAttributes(source)
    const v = source[key]!
    if (typeof v === 'string') {
      if (v.length > LIMITS.stringLength) source[key] = clampString(v)
    } else if (v !== null && typeof v === 'object') source[key] = value(v, 0) as OtlpValue
  }
  return source as Attrs
}

function copyAttributes(source: OtlpAttributes): Attrs {
  leftOut = Math.max(0, Object.keys(source).length - LIMITS.attributes)
  const attrs: Attrs = {}
  let n = 0
  for (const key in source) {
    if (n++ >= LIMITS.attributes) break
    attrs[clampString(key, LIMITS.nameLength)] = value(source[key]!, 0)
  }
  return attrs
}

/** How many attributes the last `attributes` call left out (over `LIMITS.attributes`); read it at once. */
let leftOut = 0

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
