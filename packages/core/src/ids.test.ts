import { describe, expect, it } from 'vitest'
import { INVALID_SPAN_ID, INVALID_TRACE_ID, isValidSpanId, isValidTraceId, randomIdGenerator } from './ids.js'

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

  it('use the whole hex alphabet (no bias towards a few characters)', () => {
    const counts = new Map<string, number>()
    for (let i = 0; i < 20_000; i++)
      for (const c of randomIdGenerator.generateSpanId()) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).toBe(16)
    const expected = (20_000 * 16) / 16
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.05)
  })
})
