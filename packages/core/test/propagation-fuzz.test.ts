import { describe, expect, it } from 'vitest'
import { type Context, ROOT_CONTEXT } from '../src/context.js'
import { b3Propagator } from '../src/propagation/b3.js'
import { getBaggage, isValidBaggageKey, parseBaggage, w3cBaggagePropagator } from '../src/propagation/baggage.js'
import { jaegerPropagator } from '../src/propagation/jaeger.js'
import { headerGetter, type TextMapPropagator } from '../src/propagation/propagator.js'
import { parseTraceState } from '../src/propagation/tracestate.js'
import { w3cTraceContextPropagator } from '../src/propagation/w3c.js'
import { xrayPropagator } from '../src/propagation/xray.js'
import { isValidSpanContext, spanContextFrom } from '../src/trace-context.js'

// Fuzzing every extractor: 100k random and mutated header values each (seeded, so a failure
// reproduces), never a throw, never an invalid context, and no super-linear work on 1 MB values.
const CASES = 100_000

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALPHABET = '0123456789abcdefABCDEF-_=,;:@%*/ \t.?!"\\\u00e9\u0000\n\r\u{1F600}xyzRootParentSampled'
const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SID = '00f067aa0ba902b7'

function mutator(seeds: string[], seed: number): () => string {
  const random = rng(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const chars = [...ALPHABET]
  const char = () => pick(chars)
  return () => {
    const mode = random()
    if (mode < 0.15) {
      // fully random
      let s = ''
      const n = Math.floor(random() * 80)
      for (let i = 0; i < n; i++) s += char()
      return s
    }
    let s = pick(seeds)
    const edits = 1 + Math.floor(random() * 4)
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * (s.length + 1))
      const op = random()
      if (op < 0.3) s = s.slice(0, at) + char() + s.slice(at + 1)
      else if (op < 0.5) s = s.slice(0, at) + char() + s.slice(at)
      else if (op < 0.65) s = s.slice(0, at) + s.slice(at + 1)
      else if (op < 0.75) s = s.slice(0, at)
      else if (op < 0.85) s = s + pick([',', ';', '-', ':', ' ']) + pick(seeds)
      else if (op < 0.92)
        s = s.slice(0, at) + s.slice(at, at + 8).repeat(1 + Math.floor(random() * 5)) + s.slice(at + 8)
      else s = s.toUpperCase()
    }
    return s
  }
}

/**
 * What "a valid context" means for every propagator: a valid remote parent or none, a tracestate
 * that re-parses to itself, valid baggage. Plain checks (not `expect`) keep 100k cases fast.
 */
function invalidReason(ctx: Context): string | undefined {
  const sc = spanContextFrom(ctx)
  if (sc) {
    if (!isValidSpanContext(sc)) return 'invalid ids'
    if (sc.isRemote !== true) return 'not remote'
    if (!Number.isInteger(sc.traceFlags) || sc.traceFlags < 0 || sc.traceFlags > 0xff) return 'bad flags'
    const ts = sc.traceState?.serialize()
    if (ts) {
      if (ts.length > 512) return 'tracestate over 512 chars'
      if (parseTraceState(ts)?.serialize() !== ts) return 'tracestate does not re-parse'
    }
  }
  for (const [key, entry] of getBaggage(ctx)) {
    if (typeof key !== 'string' || key.length === 0 || typeof entry.value !== 'string') return 'bad baggage'
  }
  return undefined
}

function expectValid(ctx: Context, input?: unknown): void {
  const reason = invalidReason(ctx)
  if (reason) throw new Error(`${reason} for ${JSON.stringify(input)}`)
}

interface Target {
  name: string
  propagator: TextMapPropagator
  seeds: string[]
  carrier: (value: string) => Record<string, string>
  /** Pathological shapes for the linear-time check. */
  long: (n: number) => string
}

const targets: Target[] = [
  {
    name: 'traceparent',
    propagator: w3cTraceContextPropagator,
    seeds: [`00-${TID}-${SID}-01`, `cc-${TID}-${SID}-09-future`, `ff-${TID}-${SID}-01`],
    carrier: (v) => ({ traceparent: v, tracestate: 'a=1' }),
    long: (n) => `01-${TID}-${SID}-01-${'a'.repeat(n)}`,
  },
  {
    name: 'tracestate',
    propagator: w3cTraceContextPropagator,
    seeds: ['congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', 'a@b=1, ,c= x', `k=${'v'.repeat(250)}`, 'a=1,a=2'],
    carrier: (v) => ({ traceparent: `00-${TID}-${SID}-01`, tracestate: v }),
    long: (n) => ' ,'.repeat(n / 2),
  },
  {
    name: 'baggage',
    propagator: w3cBaggagePropagator,
    seeds: ['userId=alice,serverNode=DF%2028', 'k=v;p1;p2=x, k2 = v2', 'a=%E2%82%AC', 'a=b=c'],
    carrier: (v) => ({ baggage: v }),
    long: (n) => 'k=v;p,'.repeat(n / 6),
  },
  {
    name: 'b3 single',
    propagator: b3Propagator(),
    seeds: [`${TID}-${SID}-1-${SID}`, `${SID}-${SID}-d`, '0', `${TID}-${SID}`],
    carrier: (v) => ({ b3: v }),
    long: (n) => '-'.repeat(n),
  },
  {
    name: 'b3 multi',
    propagator: b3Propagator({ injectEncoding: 'multi' }),
    seeds: [TID, SID, '1', 'true'],
    carrier: (v) => ({
      'x-b3-traceid': v,
      'x-b3-spanid': v.slice(-16),
      'x-b3-sampled': v.slice(0, 1),
      'x-b3-flags': v,
    }),
    long: (n) => 'a'.repeat(n),
  },
  {
    name: 'jaeger',
    propagator: jaegerPropagator(),
    seeds: [`${TID}:${SID}:0:1`, `${SID}%3A${SID}%3A0%3A3`, 'abc:f:0:2'],
    carrier: (v) => ({ 'uber-trace-id': v, 'uberctx-k': v }),
    long: (n) => '%3A'.repeat(n / 3),
  },
  {
    name: 'xray',
    propagator: xrayPropagator(),
    seeds: [
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Lineage=a:1|b:2;X=y',
    ],
    carrier: (v) => ({ 'x-amzn-trace-id': v }),
    long: (n) => 'Root=1;'.repeat(n / 7),
  },
]

describe.each(targets)('fuzz: $name extractor', (target) => {
  it(`${CASES} random and mutated values: never throws, never an invalid context`, () => {
    const next = mutator(target.seeds, target.name.length * 7919)
    let parents = 0
    for (let i = 0; i < CASES; i++) {
      const value = next()
      const carrier: Record<string, string | string[]> = target.carrier(value)
      if (i % 10 === 0) {
        // repeated headers, as Node's IncomingHttpHeaders gives set-cookie-like arrays
        for (const key of Object.keys(carrier)) carrier[key] = [carrier[key] as string, next()]
      }
      let ctx: Context
      try {
        ctx = target.propagator.extract(ROOT_CONTEXT, carrier, headerGetter)
      } catch (error) {
        throw new Error(`extract threw on ${JSON.stringify(carrier)}: ${String(error)}`)
      }
      if (ctx === ROOT_CONTEXT) continue
      if (spanContextFrom(ctx)) parents++
      expectValid(ctx, carrier)
    }
    // the mutations keep enough inputs valid that both paths are exercised
    if (target.name !== 'baggage') expect(parents).toBeGreaterThan(100)
  })

  it('a 1 MB value costs no more than ~linear work compared with 100 KB', () => {
    const small = target.long(100_000)
    const large = target.long(1_000_000)
    const time = (value: string) => {
      let best = Number.POSITIVE_INFINITY
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now()
        for (let i = 0; i < 5; i++)
          expectValid(target.propagator.extract(ROOT_CONTEXT, target.carrier(value), headerGetter))
        best = Math.min(best, performance.now() - t0)
      }
      return best
    }
    time(small)
    const tSmall = time(small)
    const tLarge = time(large)
    // linear would be ~10x; quadratic ~100x. The additive slack absorbs timer noise near zero.
    expect(tLarge).toBeLessThan(tSmall * 30 + 20)
  })
})

describe('fuzz: baggage keys', () => {
  it('every key that comes out of parseBaggage is a valid token', () => {
    const next = mutator(['a=1,b=2', 'k=v;p', '!#$%&*+-.^_`|~=1'], 42)
    for (let i = 0; i < 20_000; i++) {
      for (const key of parseBaggage(next()).keys()) if (!isValidBaggageKey(key)) expect.fail(`bad key ${key}`)
    }
  })
})
