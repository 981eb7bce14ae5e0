import { type Context, createContextKey } from '../context.js'
import { INVALID_SPAN_ID, INVALID_TRACE_ID, isInvalidSpanId, isInvalidTraceId } from '../ids.js'
import { type SpanContext, TraceFlags } from '../span.js'
import { contextWithRemoteParent, spanContextFrom } from '../trace-context.js'
import { type Baggage, type BaggageEntry, contextWithBaggage, getBaggage, mergeBaggage } from './baggage.js'
import { type TextMapGetter, type TextMapPropagator, trimOws } from './propagator.js'

/**
 * Jaeger client propagation: `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}` and
 * one `uberctx-{key}` header per baggage item (jaeger client-libraries §Propagation Format).
 */
export const JAEGER_HEADER = 'uber-trace-id'
export const JAEGER_BAGGAGE_PREFIX = 'uberctx-'

const DEBUG_KEY = createContextKey('jaeger.debug')
const FLAG_SAMPLED = 0x01
const FLAG_DEBUG = 0x02
// Ids are 1-32 / 1-16 hex digits (leading zeros may be omitted); flags are one byte.
const HEADER_RE = /^([0-9a-f]{1,32}):([0-9a-f]{1,16}):([0-9a-f]{1,16}):([0-9a-f]{1,2})$/i
// 32 + 16 + 16 + 2 + 3 colons, or the same with "%3A" separators
const MAX_LENGTH = 80
const ZEROS = '00000000000000000000000000000000'
// Baggage from uberctx- headers obeys the same limits as W3C baggage.
const MAX_ITEMS = 64
const MAX_BAGGAGE_BYTES = 8192

function one(getter: TextMapGetter<unknown>, carrier: unknown, key: string): string | undefined {
  const v = getter.get(carrier, key)
  const s = Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v
  return typeof s === 'string' ? trimOws(s) : undefined
}

/** Parses an `uber-trace-id` value, plain or URL-encoded; 64-bit trace ids are left-padded. */
export function parseUberTraceId(value: string): { sc: SpanContext; debug: boolean } | undefined {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined
  if (value.includes('%')) {
    try {
      value = decodeURIComponent(value)
    } catch {
      return undefined
    }
  }
  const m = HEADER_RE.exec(trimOws(value))
  if (!m) return undefined
  const traceId = (ZEROS + (m[1] as string).toLowerCase()).slice(-32)
  const spanId = (ZEROS + (m[2] as string).toLowerCase()).slice(-16)
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined
  const flags = Number.parseInt(m[4] as string, 16)
  const debug = (flags & FLAG_DEBUG) !== 0
  const sampled = (flags & FLAG_SAMPLED) !== 0 || debug
  return { sc: { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : 0, isRemote: true }, debug }
}

function extractBaggage(getter: TextMapGetter<unknown>, carrier: unknown): Baggage | undefined {
  let out: Map<string, BaggageEntry> | undefined
  let bytes = 0
  for (const name of getter.keys(carrier)) {
    if (name.length <= JAEGER_BAGGAGE_PREFIX.length) continue
    const lower = name.toLowerCase()
    if (!lower.startsWith(JAEGER_BAGGAGE_PREFIX)) continue
    const raw = one(getter, carrier, name)
    if (raw === undefined) continue
    bytes += name.length + raw.length
    if (bytes > MAX_BAGGAGE_BYTES || (out?.size ?? 0) >= MAX_ITEMS) break
    let value: string
    try {
      value = decodeURIComponent(raw)
    } catch {
      continue
    }
    out ??= new Map()
    out.set(lower.slice(JAEGER_BAGGAGE_PREFIX.length), { value })
  }
  return out
}

/** Jaeger propagator: `uber-trace-id` for the trace, `uberctx-*` for baggage (shared with W3C baggage). */
export function jaegerPropagator(): TextMapPropagator {
  return {
    inject(ctx: Context, carrier, setter) {
      const sc = spanContextFrom(ctx)
      if (sc && !isInvalidTraceId(sc.traceId) && !isInvalidSpanId(sc.spanId)) {
        const debug = ctx.getValue(DEBUG_KEY) === true
        const flags = (sc.traceFlags & TraceFlags.SAMPLED ? FLAG_SAMPLED : 0) | (debug ? FLAG_DEBUG : 0)
        setter.set(carrier, JAEGER_HEADER, `${sc.traceId}:${sc.spanId}:0:0${flags}`)
      }
      for (const [key, entry] of getBaggage(ctx)) {
        setter.set(carrier, JAEGER_BAGGAGE_PREFIX + key, encodeURIComponent(entry.value))
      }
    },
    extract(ctx, carrier, getter) {
      let out = ctx
      const header = one(getter, carrier, JAEGER_HEADER)
      const parsed = header === undefined ? undefined : parseUberTraceId(header)
      if (parsed) {
        out = contextWithRemoteParent(out, parsed.sc)
        if (parsed.debug) out = out.setValue(DEBUG_KEY, true)
      }
      const baggage = extractBaggage(getter, carrier)
      if (baggage) out = contextWithBaggage(out, mergeBaggage(getBaggage(out), baggage))
      return out
    },
    fields: () => [JAEGER_HEADER],
  }
}
