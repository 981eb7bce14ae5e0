import type { Context } from '../context.js'
import { isValidSpanId, isValidTraceId } from '../ids.js'
import type { SpanContext, TraceState } from '../span.js'
import { contextWithRemoteParent, spanContextFrom } from '../trace-context.js'
import { headerValue, type TextMapPropagator } from './propagator.js'

// Minimal W3C trace-context propagator; the propagation issue replaces it with the strict one.
const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

class SimpleTraceState implements TraceState {
  constructor(private readonly raw: string) {}
  get(key: string): string | undefined {
    for (const member of this.raw.split(',')) {
      const [k, v] = member.trim().split('=')
      if (k === key) return v
    }
    return undefined
  }
  set(): TraceState {
    return this
  }
  unset(): TraceState {
    return this
  }
  serialize(): string {
    return this.raw
  }
}

export function parseTraceparent(value: string): SpanContext | undefined {
  const m = TRACEPARENT_RE.exec(value.trim())
  if (!m) return undefined
  const [, traceId = '', spanId = '', flags = ''] = m
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true }
}

export const w3cTraceContextPropagator: TextMapPropagator = {
  inject(ctx: Context, carrier, setter) {
    const sc = spanContextFrom(ctx)
    if (!sc || !isValidTraceId(sc.traceId) || !isValidSpanId(sc.spanId)) return
    const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0')
    setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-${flags}`)
    const ts = sc.traceState?.serialize()
    if (ts) setter.set(carrier, 'tracestate', ts)
  },
  extract(ctx, carrier, getter) {
    const header = getter.get(carrier, 'traceparent')
    if (header === undefined || Array.isArray(header)) return ctx
    const sc = parseTraceparent(header)
    if (!sc) return ctx
    const ts = headerValue(getter, carrier, 'tracestate')
    if (ts) sc.traceState = new SimpleTraceState(ts)
    return contextWithRemoteParent(ctx, sc)
  },
  fields: () => ['traceparent', 'tracestate'],
}
