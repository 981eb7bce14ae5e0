import { type Context, createContextKey } from '../context.js'
import {
  type IdGenerator,
  INVALID_SPAN_ID,
  INVALID_TRACE_ID,
  isInvalidSpanId,
  isInvalidTraceId,
  randomIdGenerator,
} from '../ids.js'
import { type SpanContext, TraceFlags } from '../span.js'
import { contextWithRemoteParent, spanContextFrom } from '../trace-context.js'
import { type TextMapGetter, type TextMapPropagator, trimOws } from './propagator.js'

/**
 * AWS X-Ray: `X-Amzn-Trace-Id: Root=1-{8 hex epoch}-{24 hex};Parent={16 hex};Sampled=0|1`
 * (AWS X-Ray developer guide, "Tracing header"). `Lineage` and unknown keys are passed on
 * unchanged to the next hop of the same trace; `Self` (added by load balancers) is not.
 */
export const XRAY_HEADER = 'x-amzn-trace-id'

// The extra fields (Lineage, unknown keys) received for one trace, re-sent with that trace only.
const EXTRA_KEY = createContextKey('xray.extra')
interface Extra {
  traceId: string
  fields: string
}

const ROOT_RE = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/
const PARENT_RE = /^[0-9a-f]{16}$/
// The X-Ray SDKs cap the header at a few hundred bytes; Lineage and custom keys fit well under 2 KB.
const MAX_LENGTH = 2048
const MAX_EXTRA_LENGTH = 1024

function one(getter: TextMapGetter<unknown>, carrier: unknown, key: string): string | undefined {
  const v = getter.get(carrier, key)
  const s = Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v
  return typeof s === 'string' ? s : undefined
}

export interface XRayHeader {
  sc: SpanContext
  /** `Lineage=…;Other=…` as received, or empty. */
  extra: string
}

/** Parses an `X-Amzn-Trace-Id` value; undefined without a valid Root and Parent. */
export function parseXRayHeader(value: string): XRayHeader | undefined {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined
  let traceId: string | undefined
  let spanId: string | undefined
  let sampled = false
  const extra: string[] = []
  for (const part of value.split(';')) {
    const field = trimOws(part)
    if (!field) continue
    const eq = field.indexOf('=')
    if (eq <= 0) return undefined
    const key = field.slice(0, eq)
    const v = field.slice(eq + 1)
    if (key === 'Root') {
      const m = ROOT_RE.exec(v)
      if (!m || traceId !== undefined) return undefined
      traceId = (m[1] as string) + (m[2] as string)
    } else if (key === 'Parent') {
      if (!PARENT_RE.test(v) || spanId !== undefined) return undefined
      spanId = v
    } else if (key === 'Sampled') {
      // "?" asks the receiver to decide; we start unsampled-by-parent like OpenTelemetry does
      if (v !== '0' && v !== '1' && v !== '?') return undefined
      sampled = v === '1'
    } else if (key !== 'Self') {
      extra.push(field)
    }
  }
  if (!traceId || !spanId || traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined
  const fields = extra.join(';')
  return {
    sc: { traceId, spanId, traceFlags: sampled ? TraceFlags.SAMPLED : 0, isRemote: true },
    extra: fields.length > MAX_EXTRA_LENGTH ? '' : fields,
  }
}

/** The `X-Amzn-Trace-Id` value for a span context: `Root=1-{epoch}-{rest};Parent={span};Sampled={0|1}`. */
export function formatXRayHeader(sc: SpanContext, extra?: string): string {
  const root = `1-${sc.traceId.slice(0, 8)}-${sc.traceId.slice(8)}`
  const header = `Root=${root};Parent=${sc.spanId};Sampled=${sc.traceFlags & TraceFlags.SAMPLED ? '1' : '0'}`
  return extra ? `${header};${extra}` : header
}

/** AWS X-Ray propagator (`X-Amzn-Trace-Id`). */
export function xrayPropagator(): TextMapPropagator {
  return {
    inject(ctx: Context, carrier, setter) {
      const sc = spanContextFrom(ctx)
      if (!sc || isInvalidTraceId(sc.traceId) || isInvalidSpanId(sc.spanId)) return
      const extra = ctx.getValue(EXTRA_KEY) as Extra | undefined
      setter.set(carrier, XRAY_HEADER, formatXRayHeader(sc, extra?.traceId === sc.traceId ? extra.fields : undefined))
    },
    extract(ctx, carrier, getter) {
      const header = one(getter, carrier, XRAY_HEADER)
      if (header === undefined) return ctx
      const parsed = parseXRayHeader(header)
      if (!parsed) return ctx
      const out = contextWithRemoteParent(ctx, parsed.sc)
      return parsed.extra ? out.setValue(EXTRA_KEY, { traceId: parsed.sc.traceId, fields: parsed.extra }) : out
    },
    fields: () => [XRAY_HEADER],
  }
}

/**
 * Trace ids X-Ray accepts: the first 4 bytes are the start time in epoch seconds, the other 12
 * are random (X-Ray "Trace ID format"). Use with `init({ idGenerator: xrayIdGenerator })`.
 */
export const xrayIdGenerator: IdGenerator = {
  generateTraceId() {
    const epoch = Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0')
    return epoch + randomIdGenerator.generateTraceId().slice(8)
  },
  generateSpanId: () => randomIdGenerator.generateSpanId(),
}
