import { describe, expect, it } from 'vitest'
import {
  INVALID_SPAN_ID,
  INVALID_TRACE_ID,
  isInvalidSpanId,
  isInvalidTraceId,
  isValidSpanId,
  isValidTraceId,
  pooledIdGenerator,
  randomIdGenerator,
} from './ids.js'

describe('ids', () => {
  it('are lower-case hex of the W3C lengths (trace-context §3.2.2.3, §3.2.2.4)', () => {
    for (let i = 0; i < 10_000; i++) {
      expect(randomIdGenerator.generateTraceId()).toMatch(/^[0-9a-f]{32}$/)
      expect(randomIdGenerator.generateSpanId()).toMatch(/^[0-9a-f]{16}$/)
    }
  })

  it('are unique over a million of each', () => {
    const traceIds = new Set<string>()
    const spanIds = new Set<string>()
    for (let i = 0; i < 1_000_000; i++) {
      traceIds.add(randomIdGenerator.generateTraceId())
      spanIds.add(randomIdGenerator.generateSpanId())
    }
    expect(traceIds.size).toBe(1_000_000)
    expect(spanIds.size).toBe(1_000_000)
  })

  it('are never the all-zero invalid ids', () => {
    expect(isValidTraceId(INVALID_TRACE_ID)).toBe(false)
    expect(isValidSpanId(INVALID_SPAN_ID)).toBe(false)
    expect(isValidTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe(false)
    expect(isValidTraceId('4bf92f3577b34da6a3ce929d0e0e4736')).toBe(true)
  })

  it('skip all-zero bytes in the pool instead of returning an invalid id', () => {
    // every other 8-byte slot of each pool is zero: only the odd slots may become span ids
    let fills = 0
    const ids = pooledIdGenerator((pool) => {
      fills++
      for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(i / 8) % 2 === 0 ? 0 : (i % 251) + 1
    })
    for (let i = 0; i < 5000; i++) {
      const id = ids.generateSpanId()
      expect(id).not.toBe(INVALID_SPAN_ID)
      expect(isValidSpanId(id)).toBe(true)
    }
    expect(fills).toBeGreaterThan(1) // the skipped slots used the pool up twice as fast
    // a trace id is invalid only if all 16 bytes are zero: half-zero ids are kept
    const traceIds = pooledIdGenerator((pool) => {
      for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(i / 16) % 2 === 0 ? 0 : 7
    })
    expect(traceIds.generateTraceId()).toBe('07'.repeat(16))
    const halves = pooledIdGenerator((pool) => {
      for (let i = 0; i < pool.length; i++) pool[i] = i % 16 < 8 ? 0 : 255
    })
    expect(halves.generateTraceId()).toBe(`${'00'.repeat(8)}${'ff'.repeat(8)}`)
  })

  it('isInvalidTraceId is exactly `id === INVALID_TRACE_ID`', () => {
    for (const id of [
      INVALID_TRACE_ID,
      `${INVALID_TRACE_ID.slice(0, 31)}1`,
      `1${INVALID_TRACE_ID.slice(1)}`,
      '4bf92f3577b34da6a3ce929d0e0e4730',
      '',
      '0',
      `${INVALID_TRACE_ID}0`,
      randomIdGenerator.generateTraceId(),
      `x${randomIdGenerator.generateTraceId()}`.slice(1),
    ]) {
      expect(isInvalidTraceId(id)).toBe(id === INVALID_TRACE_ID)
    }
  })

  it('isInvalidSpanId is exactly `id === INVALID_SPAN_ID`', () => {
    for (const id of [
      INVALID_SPAN_ID,
      `${INVALID_SPAN_ID.slice(0, 15)}1`,
      `1${INVALID_SPAN_ID.slice(1)}`,
      '00f067aa0ba902b7',
      '',
      '0',
      `${INVALID_SPAN_ID}0`,
      randomIdGenerator.generateSpanId(),
      `x${randomIdGenerator.generateSpanId()}`.slice(1),
    ]) {
      expect(isInvalidSpanId(id)).toBe(id === INVALID_SPAN_ID)
    }
  })

  it('use the whole hex alphabet (no bias towards a few characters)', () => {
    const counts = new Map<string, number>()
    for (let i = 0; i < 20_000; i++)
      for (const c of randomIdGenerator.generateSpanId()) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).toBe(16)
    const expected = (20_000 * 16) / 16
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.05)
  })
})
