import { describe, expect, it } from 'vitest'
import { ROOT_CONTEXT } from '../context.js'
import { NonRecordingSpan, TraceFlags } from '../span.js'
import { contextWithSpan, spanContextFrom } from '../trace-context.js'
import { getBaggage, setBaggage } from './baggage.js'
import { jaegerPropagator } from './jaeger.js'
import { headerGetter, headerSetter } from './propagator.js'

const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SID = '00f067aa0ba902b7'
const jaeger = jaegerPropagator()

// Spec: Jaeger client libraries, "Propagation Format" (uber-trace-id and uberctx-{key}).
describe('uber-trace-id (Jaeger §Trace/Span Identity)', () => {
  const valid: Array<[string, string, string, string, number]> = [
    ['128-bit ids, sampled', `${TID}:${SID}:0:1`, TID, SID, 1],
    ['not sampled', `${TID}:${SID}:0:0`, TID, SID, 0],
    ['debug flag (2) implies sampled', `${TID}:${SID}:0:2`, TID, SID, 1],
    ['flags with two digits', `${TID}:${SID}:0:03`, TID, SID, 1],
    ['64-bit trace id is left-padded', `a3ce929d0e0e4736:${SID}:0:1`, `0000000000000000a3ce929d0e0e4736`, SID, 1],
    ['leading zeros omitted in ids', 'abc:f:0:1', `${'0'.repeat(29)}abc`, '000000000000000f', 1],
    ['parent span id present (deprecated, ignored)', `${TID}:${SID}:${SID}:1`, TID, SID, 1],
    ['URL-encoded separators', `${TID}%3A${SID}%3A0%3A1`, TID, SID, 1],
    ['upper-case hex is normalized', `${TID.toUpperCase()}:${SID}:0:1`, TID, SID, 1],
  ]
  it.each(valid)('%s', (_, header, traceId, spanId, flags) => {
    const sc = spanContextFrom(jaeger.extract(ROOT_CONTEXT, { 'uber-trace-id': header }, headerGetter))
    expect(sc).toMatchObject({ traceId, spanId, traceFlags: flags, isRemote: true })
  })

  it.each([
    ['three fields', `${TID}:${SID}:1`],
    ['trace id too long', `${TID}0:${SID}:0:1`],
    ['span id too long', `${TID}:${SID}0:0:1`],
    ['all-zero trace id', `0:${SID}:0:1`],
    ['all-zero span id', `${TID}:0:0:1`],
    ['flags not hex', `${TID}:${SID}:0:x`],
    ['bad percent-encoding', `${TID}%3${SID}:0:1`],
    ['empty', ''],
  ])('%s → new trace', (_, header) => {
    expect(spanContextFrom(jaeger.extract(ROOT_CONTEXT, { 'uber-trace-id': header }, headerGetter))).toBeUndefined()
  })
})

describe('uberctx- baggage (Jaeger §Baggage)', () => {
  it('reads uberctx-* headers into baggage, URL-decoded', () => {
    const ctx = jaeger.extract(
      ROOT_CONTEXT,
      { 'uberctx-user': 'J%C3%BCrgen', 'Uberctx-Tenant': 'acme', other: 'x' },
      headerGetter,
    )
    expect(Object.fromEntries([...getBaggage(ctx)].map(([k, v]) => [k, v.value]))).toEqual({
      user: 'Jürgen',
      tenant: 'acme',
    })
  })
  it('writes trace and baggage', () => {
    let ctx = contextWithSpan(
      ROOT_CONTEXT,
      new NonRecordingSpan({ traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED }),
    )
    ctx = setBaggage(ctx, { user: 'a b' })
    const out: Record<string, string> = {}
    jaeger.inject(ctx, out, headerSetter)
    expect(out).toEqual({ 'uber-trace-id': `${TID}:${SID}:0:01`, 'uberctx-user': 'a%20b' })
  })
  it('debug round-trips', () => {
    const out: Record<string, string> = {}
    jaeger.inject(
      jaeger.extract(ROOT_CONTEXT, { 'uber-trace-id': `${TID}:${SID}:0:3` }, headerGetter),
      out,
      headerSetter,
    )
    expect(out['uber-trace-id']).toBe(`${TID}:${SID}:0:03`)
  })
})
