import { afterEach, describe, expect, it } from 'vitest'
import { ROOT_CONTEXT } from '../context.js'
import { NonRecordingSpan } from '../span.js'
import { contextWithSpan, spanContextFrom } from '../trace-context.js'
import { setBaggage } from './baggage.js'
import { headerGetter, headerSetter } from './propagator.js'
import { propagatorFromNames } from './select.js'

const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SID = '00f067aa0ba902b7'
const ctx = setBaggage(
  contextWithSpan(ROOT_CONTEXT, new NonRecordingSpan({ traceId: TID, spanId: SID, traceFlags: 1 })),
  { k: 'v' },
)

function headersFor(names?: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  propagatorFromNames(names).inject(ctx, out, headerSetter)
  return out
}

describe('propagator selection (OTel SDK configuration: OTEL_PROPAGATORS)', () => {
  const saved = process.env.OTEL_PROPAGATORS
  afterEach(() => {
    if (saved === undefined) delete process.env.OTEL_PROPAGATORS
    else process.env.OTEL_PROPAGATORS = saved
  })

  it('defaults to tracecontext,baggage', () => {
    delete process.env.OTEL_PROPAGATORS
    expect(Object.keys(headersFor())).toEqual(['traceparent', 'baggage'])
  })
  it.each([
    [['b3'], ['b3']],
    [['b3multi'], ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled']],
    [['jaeger'], ['uber-trace-id', 'uberctx-k']],
    [['xray'], ['x-amzn-trace-id']],
    [['none'], []],
    [
      ['tracecontext', 'b3', 'xray'],
      ['traceparent', 'b3', 'x-amzn-trace-id'],
    ],
  ])('%j injects %j', (names, keys) => {
    expect(Object.keys(headersFor(names))).toEqual(keys)
  })
  it('reads OTEL_PROPAGATORS when no names are given', () => {
    process.env.OTEL_PROPAGATORS = ' B3 , xray '
    expect(Object.keys(headersFor())).toEqual(['b3', 'x-amzn-trace-id'])
  })
  it('ignores unknown names (with a warning) and prototype keys', () => {
    expect(Object.keys(headersFor(['constructor', 'nope', 'b3']))).toEqual(['b3'])
  })
  it('composite extract: later propagators win when both headers are present (as in OpenTelemetry)', () => {
    const p = propagatorFromNames(['tracecontext', 'b3'])
    const sc = spanContextFrom(
      p.extract(ROOT_CONTEXT, { traceparent: `00-${TID}-${SID}-01`, b3: `${TID}-aaaaaaaaaaaaaaaa-1` }, headerGetter),
    )
    expect(sc?.spanId).toBe('aaaaaaaaaaaaaaaa')
    const only = spanContextFrom(p.extract(ROOT_CONTEXT, { traceparent: `00-${TID}-${SID}-01` }, headerGetter))
    expect(only?.spanId).toBe(SID)
  })
})
