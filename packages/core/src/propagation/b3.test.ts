import { describe, expect, it } from 'vitest'
import { type Context, ROOT_CONTEXT } from '../context.js'
import { NonRecordingSpan, TraceFlags } from '../span.js'
import { contextWithSpan, spanContextFrom } from '../trace-context.js'
import { b3Propagator, b3SamplingOnly } from './b3.js'
import { headerGetter, headerSetter } from './propagator.js'

const TID = '463ac35c9f6413ad48485a3953bb6124'
const TID64 = 'a3ce929d0e0e4736'
const SID = 'a2fb4a1d1a96d312'
const PID = '0020000000000001'
const single = b3Propagator()
const multi = b3Propagator({ injectEncoding: 'multi' })

function extract(headers: unknown): Context {
  return single.extract(ROOT_CONTEXT, headers, headerGetter)
}

// Spec: https://github.com/openzipkin/b3-propagation (README sections cited per case)
describe('B3 single header (b3 §Single Header)', () => {
  const valid: Array<[string, string, string, number]> = [
    ['trace-span-sampled-parent', `${TID}-${SID}-1-${PID}`, TID, 1],
    ['trace-span-sampled', `${TID}-${SID}-1`, TID, 1],
    ['trace-span (sampling deferred)', `${TID}-${SID}`, TID, 0],
    ['not sampled', `${TID}-${SID}-0`, TID, 0],
    ['debug implies sampled', `${TID}-${SID}-d`, TID, 1],
    ['§TraceId 64-bit trace id is left-padded', `${TID64}-${SID}-1`, `0000000000000000${TID64}`, 1],
  ]
  it.each(valid)('%s', (_, header, traceId, flags) => {
    const sc = spanContextFrom(extract({ b3: header }))
    expect(sc).toMatchObject({ traceId, spanId: SID, traceFlags: flags, isRemote: true })
  })

  const invalid: Array<[string, string]> = [
    ['upper-case hex', `${TID.toUpperCase()}-${SID}-1`],
    ['trace id of 20 chars', `${TID.slice(0, 20)}-${SID}-1`],
    ['span id too short', `${TID}-${SID.slice(1)}-1`],
    ['bad sampling state', `${TID}-${SID}-2`],
    ['bad parent', `${TID}-${SID}-1-xyz`],
    ['all-zero trace id', `${'0'.repeat(32)}-${SID}-1`],
    ['all-zero span id', `${TID}-${'0'.repeat(16)}-1`],
    ['too many fields', `${TID}-${SID}-1-${PID}-x`],
    ['empty', ''],
  ]
  it.each(invalid)('%s → new trace', (_, header) => {
    expect(spanContextFrom(extract({ b3: header }))).toBeUndefined()
  })

  it.each(['0', '1', 'd'] as const)('sampling-only header "b3: %s" carries the decision, no parent', (v) => {
    const ctx = extract({ b3: v })
    expect(spanContextFrom(ctx)).toBeUndefined()
    expect(b3SamplingOnly(ctx)).toBe(v)
    const out: Record<string, string> = {}
    single.inject(ctx, out, headerSetter)
    expect(out).toEqual({ b3: v })
  })

  it('an invalid single header falls back to the multi headers', () => {
    const sc = spanContextFrom(extract({ b3: 'garbage', 'x-b3-traceid': TID, 'x-b3-spanid': SID }))
    expect(sc?.spanId).toBe(SID)
  })
})

describe('B3 multi headers (b3 §Multiple Headers)', () => {
  const valid: Array<[string, Record<string, string>, string, number]> = [
    ['128-bit, sampled', { 'X-B3-TraceId': TID, 'X-B3-SpanId': SID, 'X-B3-Sampled': '1' }, TID, 1],
    [
      '64-bit is left-padded',
      { 'x-b3-traceid': TID64, 'x-b3-spanid': SID, 'x-b3-sampled': '1' },
      `0000000000000000${TID64}`,
      1,
    ],
    [
      'with parent span id',
      { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-parentspanid': PID, 'x-b3-sampled': '0' },
      TID,
      0,
    ],
    ['§Sampling State: deferred', { 'x-b3-traceid': TID, 'x-b3-spanid': SID }, TID, 0],
    ['§Sampling State: legacy "true"', { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': 'true' }, TID, 1],
    [
      '§Debug Flag: X-B3-Flags: 1 implies sampled',
      { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-flags': '1' },
      TID,
      1,
    ],
  ]
  it.each(valid)('%s', (_, headers, traceId, flags) => {
    expect(spanContextFrom(extract(headers))).toMatchObject({ traceId, spanId: SID, traceFlags: flags })
  })

  it.each([
    ['missing span id', { 'x-b3-traceid': TID }],
    ['missing trace id', { 'x-b3-spanid': SID }],
    ['bad parent span id', { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-parentspanid': 'zz' }],
    ['repeated trace id header', { 'x-b3-traceid': [TID, TID], 'x-b3-spanid': SID }],
  ])('%s → new trace', (_, headers) => {
    expect(spanContextFrom(extract(headers))).toBeUndefined()
  })
})

describe('B3 inject', () => {
  const ctx = contextWithSpan(
    ROOT_CONTEXT,
    new NonRecordingSpan({ traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED | TraceFlags.RANDOM }),
  )
  it('single form', () => {
    const out: Record<string, string> = {}
    single.inject(ctx, out, headerSetter)
    expect(out).toEqual({ b3: `${TID}-${SID}-1` })
  })
  it('multi form', () => {
    const out: Record<string, string> = {}
    multi.inject(ctx, out, headerSetter)
    expect(out).toEqual({ 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': '1' })
  })
  it('debug round-trips in both forms', () => {
    const a: Record<string, string> = {}
    single.inject(single.extract(ROOT_CONTEXT, { b3: `${TID}-${SID}-d` }, headerGetter), a, headerSetter)
    expect(a.b3).toBe(`${TID}-${SID}-d`)
    const b: Record<string, string> = {}
    multi.inject(
      multi.extract(ROOT_CONTEXT, { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-flags': '1' }, headerGetter),
      b,
      headerSetter,
    )
    expect(b).toEqual({ 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-flags': '1' })
  })
  it('64-bit trace ids go out padded to 128 bits', () => {
    const out: Record<string, string> = {}
    single.inject(extract({ b3: `${TID64}-${SID}-0` }), out, headerSetter)
    expect(out.b3).toBe(`0000000000000000${TID64}-${SID}-0`)
  })
})
