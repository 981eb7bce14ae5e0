import { describe, expect, it } from 'vitest'
import { ROOT_CONTEXT } from '../context.js'
import { NonRecordingSpan, TraceFlags } from '../span.js'
import { contextWithSpan, spanContextFrom } from '../trace-context.js'
import { headerGetter, headerSetter } from './propagator.js'
import { createTraceState } from './tracestate.js'
import { parseTraceparent, w3cTraceContextPropagator as w3c } from './w3c.js'

const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SID = '00f067aa0ba902b7'
const TP = `00-${TID}-${SID}-01`

function extract(headers: unknown) {
  return spanContextFrom(w3c.extract(ROOT_CONTEXT, headers, headerGetter))
}

describe('traceparent (W3C trace-context §3.2)', () => {
  const valid: Array<[string, string, string, number]> = [
    ['§3.2.2 sampled', TP, SID, TraceFlags.SAMPLED],
    ['§3.2.2 not sampled', `00-${TID}-${SID}-00`, SID, 0],
    ['§3.2.2.5 unknown flag bits are not rejected (and not kept)', `00-${TID}-${SID}-ff`, SID, 0x03],
    ['§3.2.2.5 level 2 random flag kept', `00-${TID}-${SID}-02`, SID, TraceFlags.RANDOM],
    ['§3.2.2.5 sampled + random', `00-${TID}-${SID}-03`, SID, 0x03],
    ['§3.2.4 higher version, end of string', `cc-${TID}-${SID}-01`, SID, TraceFlags.SAMPLED],
    ['§3.2.4 higher version, "-" and more fields', `cc-${TID}-${SID}-01-what-the-future-will-be-like`, SID, 1],
    ['§3.2.4 higher version with unknown flags', `01-${TID}-${SID}-09-xyz`, SID, 1],
    ['RFC 9110 §5.5 OWS around the field value is not part of it', `  ${TP}\t`, SID, 1],
  ]
  it.each(valid)('%s', (_, header, spanId, flags) => {
    const sc = extract({ traceparent: header })
    expect(sc?.traceId).toBe(TID)
    expect(sc?.spanId).toBe(spanId)
    expect(sc?.traceFlags).toBe(flags)
    expect(sc?.isRemote).toBe(true)
  })

  const invalid: Array<[string, unknown]> = [
    ['§3.2.2.1 version ff is invalid', `ff-${TID}-${SID}-01`],
    ['§3.2.2.1 version 00 with a suffix', `${TP}-extra`],
    ['§3.2.2.1 version 00 with a trailing character', `${TP}0`],
    ['§3.2.4 higher version followed by a non-dash', `cc-${TID}-${SID}-01.what`],
    ['§3.2.4 higher version shorter than 55', `cc-${TID}-${SID}-1`],
    ['§3.2.2.3 all-zero trace id', `00-${'0'.repeat(32)}-${SID}-01`],
    ['§3.2.2.4 all-zero parent id', `00-${TID}-${'0'.repeat(16)}-01`],
    ['§3.2.2 upper-case hex in trace id', `00-${TID.toUpperCase()}-${SID}-01`],
    ['§3.2.2 upper-case hex in version', `0A-${TID}-${SID}-01`],
    ['§3.2.2 upper-case flags', `00-${TID}-${SID}-0A`],
    ['§3.2.2 trace id too short', `00-${TID.slice(1)}-${SID}-01`],
    ['§3.2.2 trace id too long', `00-${TID}0-${SID}-01`],
    ['§3.2.2 parent id too short', `00-${TID}-${SID.slice(1)}-01`],
    ['§3.2.2 flags one digit', `00-${TID}-${SID}-1`],
    ['§3.2.2 non-hex characters', `00-${TID.slice(0, 31)}g-${SID}-01`],
    ['§3.2.2 wrong delimiter', `00_${TID}_${SID}_01`],
    ['§3.2.4 version not hex', `0g-${TID}-${SID}-01`],
    ['empty', ''],
    ['garbage', 'not a traceparent'],
    ['§3.2 two traceparent headers (array)', [TP, `00-${TID}-${'1'.repeat(16)}-01`]],
    ['§3.2 two traceparent headers (comma-joined by Node)', `${TP}, ${TP}`],
    ['not a string', 42],
  ]
  it.each(invalid)('%s → new trace', (_, header) => {
    expect(extract({ traceparent: header })).toBeUndefined()
  })

  it('§3.2: a single-element array is one header', () => {
    expect(extract({ traceparent: [TP] })?.spanId).toBe(SID)
  })

  it('parseTraceparent re-emits a higher version as 00 (§3.2.4)', () => {
    const sc = parseTraceparent(`cc-${TID}-${SID}-01-future`)
    const carrier: Record<string, string> = {}
    w3c.inject(contextWithSpan(ROOT_CONTEXT, new NonRecordingSpan(sc!)), carrier, headerSetter)
    expect(carrier.traceparent).toBe(TP)
  })

  it('reads header names in any case from plain objects, and Fetch Headers', () => {
    expect(extract({ TraceParent: TP })?.spanId).toBe(SID)
    expect(extract(new Headers({ traceparent: TP, tracestate: 'a=1' }))?.traceState?.get('a')).toBe('1')
  })
})

describe('tracestate on extract (W3C trace-context §3.3)', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    [
      '§3.3.1.3 simple members kept in order',
      'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    ],
    ['§3.3.1 several headers are combined in order', ['a=1', 'b=2,c=3'], 'a=1,b=2,c=3'],
    ['§3.3.1 Node joins repeated headers with ", "', 'a=1, b=2', 'a=1,b=2'],
    ['§3.3.1.1 empty members and OWS are fine', ' , a=1 ,\t,b=2,, ', 'a=1,b=2'],
    ['§3.3.1 empty header is accepted (and not sent)', '', undefined],
    ['§3.3.1.3.1 multi-tenant key', 'fw529a3039@dt=ffff,t1@sys=v', 'fw529a3039@dt=ffff,t1@sys=v'],
    ['§3.3.1.3.1 key may start with a digit', '1vendor=v', '1vendor=v'],
    ['§3.3.1.3.1 key with _-*/ chars', 'a_b-c*d/e=v', 'a_b-c*d/e=v'],
    ['§3.3.1.3.2 value with spaces inside and leading', 'a= x y', 'a= x y'],
    ['§3.3.1.3.2 trailing spaces are OWS', 'a=xy   ', 'a=xy'],
    [
      '§3.3.1.3.2 value with printable punctuation',
      'a=!"#$%&\'()*+-./:;<>?@[\\]^_`{|}~',
      'a=!"#$%&\'()*+-./:;<>?@[\\]^_`{|}~',
    ],
    [
      '§3.3.1.1 32 members are fine',
      Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','),
      Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','),
    ],
    [
      '§3.3.1.1 33 members: whole header discarded',
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','),
      undefined,
    ],
    ['§3.3.1.3 duplicate key: whole header discarded', 'a=1,b=2,a=3', undefined],
    ['§3.3.1.3.1 upper-case key: whole header discarded', 'a=1,Bad=2', undefined],
    ['§3.3.1.3.1 key starting with "_"', '_a=1', undefined],
    ['§3.3.1.3.1 key of 257 chars', `${'a'.repeat(257)}=1`, undefined],
    ['§3.3.1.3.1 key of 256 chars', `${'a'.repeat(256)}=1`, `${'a'.repeat(256)}=1`],
    ['§3.3.1.3.1 two "@" in a key', 'a@b@c=1', undefined],
    ['§3.3.1.3.1 system id longer than 14', `t@${'s'.repeat(15)}=1`, undefined],
    ['§3.3.1.3.1 system id of 14', `t@${'s'.repeat(14)}=1`, `t@${'s'.repeat(14)}=1`],
    ['§3.3.1.3.1 tenant id longer than 241', `${'t'.repeat(242)}@s=1`, undefined],
    ['§3.3.1.3.1 system id starting with a digit', 't@1s=1', undefined],
    ['§3.3.1.3.1 empty tenant id', '@s=1', undefined],
    ['§3.3.1.3.2 empty value', 'a=', undefined],
    ['§3.3.1.3.2 value of 257 chars', `a=${'v'.repeat(257)}`, undefined],
    ['§3.3.1.3.2 value of 256 chars', `a=${'v'.repeat(256)}`, `a=${'v'.repeat(256)}`],
    ['§3.3.1.3.2 "=" in the value', 'a=b=c', undefined],
    ['§3.3.1.3.2 tab inside the value', 'a=b\tc', undefined],
    ['§3.3.1.3.2 non-ASCII in the value', 'a=é', undefined],
    ['§3.3.1.3 member without "="', 'a=1,b', undefined],
    ['§3.3.1.3 OWS before "=" is not allowed', 'a =1', undefined],
  ]
  it.each(cases)('%s', (_, header, expected) => {
    const sc = extract({ traceparent: TP, tracestate: header })
    expect(sc?.spanId).toBe(SID) // §3.3: a bad tracestate never affects traceparent
    const serialized = sc?.traceState?.serialize()
    expect(serialized || undefined).toBe(expected)
  })

  it('§3.3: tracestate is dropped with an invalid traceparent', () => {
    expect(extract({ traceparent: 'bad', tracestate: 'a=1' })).toBeUndefined()
  })
})

describe('TraceState', () => {
  it('§3.5: an updated entry moves to the front; a new one is added in front', () => {
    const ts = createTraceState('a=1,b=2,c=3')
    expect(ts.set('b', '9').serialize()).toBe('b=9,a=1,c=3')
    expect(ts.set('z', '0').serialize()).toBe('z=0,a=1,b=2,c=3')
    expect(ts.unset('a').serialize()).toBe('b=2,c=3')
    expect(ts.get('c')).toBe('3')
    expect(ts.serialize()).toBe('a=1,b=2,c=3') // immutable
  })

  it('rejects invalid keys and values on set', () => {
    const ts = createTraceState('a=1')
    expect(ts.set('Bad', 'x').serialize()).toBe('a=1')
    expect(ts.set('ok', 'x,y').serialize()).toBe('a=1')
  })

  it('§3.3.1.1: a 33rd key pushes the right-most one out', () => {
    let ts = createTraceState()
    for (let i = 0; i < 32; i++) ts = ts.set(`k${i}`, 'v')
    ts = ts.set('new', 'v')
    const keys = ts.serialize().split(',')
    expect(keys).toHaveLength(32)
    expect(keys[0]).toBe('new=v')
    expect(keys).not.toContain('k0=v')
  })

  it('§3.3.1.5: over 512 chars, entries over 128 chars go first, then from the right', () => {
    const big = `big=${'x'.repeat(200)}`
    const small = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(20)}`)
    const ts = createTraceState([small[0], big, ...small.slice(1)].join(','))
    const out = ts.serialize()
    expect(out.length).toBeLessThanOrEqual(512)
    expect(out).not.toContain('big=')
    // 20 entries of 24 chars + commas = 499: all small entries fit once the big one is gone
    expect(out.split(',')).toHaveLength(20)
    const many = createTraceState(
      Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(20)}`).join(','),
    )
    const kept = many.serialize().split(',')
    expect(many.serialize().length).toBeLessThanOrEqual(512)
    expect(kept[0]).toBe(`k00=${'v'.repeat(20)}`)
    expect(kept.at(-1)).toBe(`k${String(kept.length - 1).padStart(2, '0')}=${'v'.repeat(20)}`)
  })
})

describe('inject', () => {
  it('writes traceparent 00 with sampled and random flags, and tracestate', () => {
    const span = new NonRecordingSpan({
      traceId: TID,
      spanId: SID,
      traceFlags: TraceFlags.SAMPLED | TraceFlags.RANDOM | 0x80,
      traceState: createTraceState('a=1'),
    })
    const carrier: Record<string, string> = {}
    w3c.inject(contextWithSpan(ROOT_CONTEXT, span), carrier, headerSetter)
    expect(carrier).toEqual({ traceparent: `00-${TID}-${SID}-03`, tracestate: 'a=1' })
  })

  it('writes nothing without a valid span', () => {
    const carrier: Record<string, string> = {}
    w3c.inject(ROOT_CONTEXT, carrier, headerSetter)
    w3c.inject(
      contextWithSpan(ROOT_CONTEXT, new NonRecordingSpan({ traceId: '0'.repeat(32), spanId: SID, traceFlags: 1 })),
      carrier,
      headerSetter,
    )
    expect(carrier).toEqual({})
  })

  it('round-trips: extract then inject gives the same headers', () => {
    const headers = { traceparent: `00-${TID}-${SID}-03`, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }
    const out: Record<string, string> = {}
    w3c.inject(w3c.extract(ROOT_CONTEXT, headers, headerGetter), out, headerSetter)
    expect(out).toEqual(headers)
  })
})
