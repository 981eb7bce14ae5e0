import type { AttrValue, SpanKindName, StoredSpan } from '../model.js'

/**
 * What one span may carry. Anything bigger is truncated (strings) or dropped and counted
 * (attributes, events, links), so one absurd span cannot take the store's memory.
 */
export const LIMITS = {
  nameLength: 1024,
  stringLength: 16 * 1024,
  attributes: 1024,
  events: 1024,
  links: 256,
  arrayLength: 1024,
  depth: 8,
} as const

const HEX_TRACE = /^[0-9a-f]{32}$/
const HEX_SPAN = /^[0-9a-f]{16}$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)

export function clampString(value: string, max: number = LIMITS.stringLength): string {
  return value.length > max ? value.slice(0, max) : value
}

/** Copies a JSON-ish attribute value within the limits; undefined when it has no JSON form. */
export function cleanValue(value: unknown, depth = 0): AttrValue | undefined {
  switch (typeof value) {
    case 'string':
      return clampString(value)
    case 'number':
      return Number.isFinite(value) ? value : String(value)
    case 'boolean':
      return value
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
    case 'object': {
      if (value === null) return null
      if (depth >= LIMITS.depth) return undefined
      if (Array.isArray(value)) {
        const out: AttrValue[] = []
        const n = Math.min(value.length, LIMITS.arrayLength)
        for (let i = 0; i < n; i++) {
          const v = cleanValue(value[i], depth + 1)
          out.push(v === undefined ? null : v)
        }
        return out
      }
      const out: Record<string, AttrValue> = {}
      let n = 0
      for (const key in value as Record<string, unknown>) {
        if (n++ >= LIMITS.arrayLength) break
        const v = cleanValue((value as Record<string, unknown>)[key], depth + 1)
        if (v !== undefined) out[clampString(key, LIMITS.nameLength)] = v
      }
      return out
    }
    default:
      return undefined
  }
}

export function isTraceId(id: string): boolean {
  return HEX_TRACE.test(id) && id !== ZERO_TRACE
}

export function isSpanId(id: string): boolean {
  return HEX_SPAN.test(id) && id !== ZERO_SPAN
}

/** What every decoder hands over before the derived fields are filled in. */
export type SpanDraft = Omit<StoredSpan, 'service' | 'error' | 'dbSystem'>

/**
 * Checks the ids and times of a decoded span and derives the indexed fields.
 * Returns the reason as a string when the span must be rejected.
 */
export function finishSpan(draft: SpanDraft, idsChecked = false): StoredSpan | string {
  if (!idsChecked) {
    if (!isTraceId(draft.traceId)) return `invalid trace id "${clampString(String(draft.traceId), 64)}"`
    if (!isSpanId(draft.spanId)) return `invalid span id "${clampString(String(draft.spanId), 64)}"`
  }
  if (draft.parentSpanId !== undefined && !isSpanId(draft.parentSpanId)) {
    if (draft.parentSpanId === '' || draft.parentSpanId === ZERO_SPAN) draft.parentSpanId = undefined
    else return `invalid parent span id "${clampString(String(draft.parentSpanId), 64)}"`
  }
  if (draft.parentSpanId === draft.spanId) return `span ${draft.spanId} is its own parent`
  if (!Number.isFinite(draft.startUs) || draft.startUs <= 0) return `span ${draft.spanId} has no start time`
  if (!Number.isFinite(draft.durationUs) || draft.durationUs < 0) {
    return `span ${draft.spanId} ends before it starts (duration ${draft.durationUs} µs)`
  }
  // hot path: the draft becomes the stored span in place (no copy per span)
  const span = draft as StoredSpan
  span.name = draft.name ? clampString(draft.name, LIMITS.nameLength) : '(unnamed)'
  const serviceName = draft.resource['service.name']
  span.service = typeof serviceName === 'string' && serviceName ? clampString(serviceName, 256) : 'unknown_service'
  span.error = draft.status.code === 'ERROR'
  const dbValue =
    draft.kind === 'client' ? (draft.attributes['db.system.name'] ?? draft.attributes['db.system']) : undefined
  span.dbSystem = typeof dbValue === 'string' && dbValue ? clampString(dbValue, 256) : undefined
  return span
}

export function kindFromNumber(n: unknown): SpanKindName {
  switch (n) {
    case 1:
    case 'SPAN_KIND_INTERNAL':
      return 'internal'
    case 2:
    case 'SPAN_KIND_SERVER':
      return 'server'
    case 3:
    case 'SPAN_KIND_CLIENT':
      return 'client'
    case 4:
    case 'SPAN_KIND_PRODUCER':
      return 'producer'
    case 5:
    case 'SPAN_KIND_CONSUMER':
      return 'consumer'
    default:
      return 'unspecified'
  }
}

/** What a decoder returns: the accepted spans and why the others were rejected. */
export interface DecodeResult {
  spans: StoredSpan[]
  rejected: number
  /** The first few reasons, for OTLP partial success and logs. */
  reasons: string[]
}

export function newResult(): DecodeResult {
  return { spans: [], rejected: 0, reasons: [] }
}

/** `idsChecked`: the decoder already validated the trace and span ids as `isTraceId`/`isSpanId` would. */
export function accept(result: DecodeResult, draft: SpanDraft, idsChecked = false): void {
  const span = finishSpan(draft, idsChecked)
  if (typeof span === 'string') reject(result, span)
  else result.spans.push(span)
}

export function reject(result: DecodeResult, reason: string): void {
  result.rejected++
  if (result.reasons.length < 5) result.reasons.push(reason)
}
