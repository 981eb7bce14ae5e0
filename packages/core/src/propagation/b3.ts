import { type Context, createContextKey } from '../context.js'
import { INVALID_SPAN_ID, INVALID_TRACE_ID, isInvalidSpanId, isInvalidTraceId } from '../ids.js'
import { type SpanContext, TraceFlags } from '../span.js'
import { contextWithRemoteParent, spanContextFrom } from '../trace-context.js'
import { headerValue, type TextMapGetter, type TextMapPropagator, trimOws } from './propagator.js'

/** B3 (openzipkin/b3-propagation): the single `b3` header or the `X-B3-*` headers. */
export interface B3Options {
  /** Which form `inject` writes (both are always read). Default `single`. */
  injectEncoding?: 'single' | 'multi' | undefined
}

// Debug ("d" / X-B3-Flags: 1) travels in the context so the next hop gets it too (b3 §Debug Flag).
const DEBUG_KEY = createContextKey('b3.debug')
// A sampling-only header (`b3: 0`, `b3: 1`, `b3: d`) carries a decision but no ids (b3 §Single Header).
const SAMPLING_ONLY_KEY = createContextKey('b3.sampling-only')

const TRACE_ID_RE = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/
const SPAN_ID_RE = /^[0-9a-f]{16}$/
// 32 + 16 + 1 + 16 hex and three dashes; longer single headers are not B3
const MAX_SINGLE_LENGTH = 68
const ZERO_PAD = '0000000000000000'

export const B3_SINGLE = 'b3'
export const B3_TRACE_ID = 'x-b3-traceid'
export const B3_SPAN_ID = 'x-b3-spanid'
export const B3_PARENT_SPAN_ID = 'x-b3-parentspanid'
export const B3_SAMPLED = 'x-b3-sampled'
export const B3_FLAGS = 'x-b3-flags'

/** The sampling decision of a sampling-only `b3` header (`'0'`, `'1'` or `'d'`), if one was received. */
export function b3SamplingOnly(ctx: Context): '0' | '1' | 'd' | undefined {
  return ctx.getValue(SAMPLING_ONLY_KEY) as '0' | '1' | 'd' | undefined
}

function one(getter: TextMapGetter<unknown>, carrier: unknown, key: string): string | undefined {
  const v = getter.get(carrier, key)
  const s = Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v
  return typeof s === 'string' ? trimOws(s) : undefined
}

/** A 64-bit trace id is left-padded to 128 bits (b3 §TraceId); all-zero ids are invalid. */
function traceIdFrom(value: string | undefined): string | undefined {
  if (value === undefined || !TRACE_ID_RE.test(value)) return undefined
  const id = value.length === 16 ? ZERO_PAD + value : value
  return id === INVALID_TRACE_ID ? undefined : id
}

function spanIdFrom(value: string | undefined): string | undefined {
  return value !== undefined && SPAN_ID_RE.test(value) && value !== INVALID_SPAN_ID ? value : undefined
}

interface Parsed {
  sc: SpanContext
  debug: boolean
}

/** Parses `b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]` (b3 §Single Header). */
export function parseB3Single(value: string): Parsed | '0' | '1' | 'd' | undefined {
  if (typeof value !== 'string' || value.length > MAX_SINGLE_LENGTH) return undefined
  value = trimOws(value)
  if (value === '0' || value === '1' || value === 'd') return value
  const parts = value.split('-')
  if (parts.length < 2 || parts.length > 4) return undefined
  const traceId = traceIdFrom(parts[0])
  const spanId = spanIdFrom(parts[1])
  if (!traceId || !spanId) return undefined
  const state = parts[2]
  if (state !== undefined && state !== '0' && state !== '1' && state !== 'd') return undefined
  if (parts[3] !== undefined && !spanIdFrom(parts[3])) return undefined
  const debug = state === 'd'
  const sampled = debug || state === '1'
  return { sc: { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : 0, isRemote: true }, debug }
}

function parseMulti(getter: TextMapGetter<unknown>, carrier: unknown): Parsed | undefined {
  const traceId = traceIdFrom(one(getter, carrier, B3_TRACE_ID))
  if (!traceId) return undefined
  const spanId = spanIdFrom(one(getter, carrier, B3_SPAN_ID))
  if (!spanId) return undefined
  const parent = one(getter, carrier, B3_PARENT_SPAN_ID)
  if (parent !== undefined && !spanIdFrom(parent)) return undefined
  const debug = one(getter, carrier, B3_FLAGS) === '1'
  // b3 §Sampling State: "1"/"0"; "true"/"false" are accepted from older clients
  const s = one(getter, carrier, B3_SAMPLED)?.toLowerCase()
  const sampled = debug || s === '1' || s === 'true'
  return { sc: { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : 0, isRemote: true }, debug }
}

/** B3 propagator: reads the single header first, then the multi headers; writes the form chosen by `injectEncoding`. */
export function b3Propagator(options: B3Options = {}): TextMapPropagator {
  const multi = options.injectEncoding === 'multi'
  return {
    inject(ctx: Context, carrier, setter) {
      const sc = spanContextFrom(ctx)
      if (!sc || isInvalidTraceId(sc.traceId) || isInvalidSpanId(sc.spanId)) {
        const decision = b3SamplingOnly(ctx)
        if (decision && !multi) setter.set(carrier, B3_SINGLE, decision)
        return
      }
      const debug = ctx.getValue(DEBUG_KEY) === true
      const sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0
      if (multi) {
        setter.set(carrier, B3_TRACE_ID, sc.traceId)
        setter.set(carrier, B3_SPAN_ID, sc.spanId)
        if (debug) setter.set(carrier, B3_FLAGS, '1')
        else setter.set(carrier, B3_SAMPLED, sampled ? '1' : '0')
      } else {
        setter.set(carrier, B3_SINGLE, `${sc.traceId}-${sc.spanId}-${debug ? 'd' : sampled ? '1' : '0'}`)
      }
    },
    extract(ctx, carrier, getter) {
      const single = headerValue(getter, carrier, B3_SINGLE)
      let parsed: Parsed | undefined
      if (single !== undefined) {
        const result = parseB3Single(single)
        if (typeof result === 'string') return ctx.setValue(SAMPLING_ONLY_KEY, result)
        parsed = result
      }
      parsed ??= parseMulti(getter, carrier)
      if (!parsed) return ctx
      const out = contextWithRemoteParent(ctx, parsed.sc)
      return parsed.debug ? out.setValue(DEBUG_KEY, true) : out
    },
    fields: () => (multi ? [B3_TRACE_ID, B3_SPAN_ID, B3_SAMPLED, B3_FLAGS, B3_PARENT_SPAN_ID] : [B3_SINGLE]),
  }
}
