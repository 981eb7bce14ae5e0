import { describe, expect, it } from 'vitest'
import { histogram, parseSlo, percentile, percentiles, sloReport, sloReportFromCounts } from './percentiles.js'

describe('percentiles', () => {
  it('uses nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentiles(values)).toEqual({ count: 100, min: 1, p50: 50, p90: 90, p95: 95, p99: 99, max: 100 })
    expect(percentile([], 0.5)).toBeNull()
    expect(percentile([7], 0.99)).toBe(7)
  })

  it('bins durations on a log scale, every value in one bin', () => {
    const bins = histogram([1000, 2000, 4000, 1_000_000], 10)
    expect(bins).toHaveLength(10)
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(4)
    expect(bins[0]!.count).toBe(1)
    expect(bins[9]!.count).toBe(1)
    expect(histogram([])).toEqual([])
  })

  it('reports SLO breaches and burn rate', () => {
    const durations = [...Array(98).fill(100_000), 300_000, 400_000]
    const report = sloReport(durations, 200_000, 0.99)
    expect(report).toMatchObject({ total: 100, breaches: 2, breachRate: 0.02, met: false })
    expect(report.burnRate).toBeCloseTo(2)
    expect(sloReportFromCounts(100, 2, 200_000, 0.99)).toEqual(report)
    expect(sloReportFromCounts(0, 0, 200_000, 0.99)).toMatchObject({ breachRate: 0, met: true })
    expect(parseSlo('GET /orders/:id=200ms@99%')).toEqual({
      operation: 'GET /orders/:id',
      thresholdUs: 200_000,
      target: 0.99,
    })
    expect(parseSlo('GET /x=1.5s@99.9')).toMatchObject({ thresholdUs: 1_500_000, target: 0.999 })
    expect(parseSlo('nonsense')).toBeUndefined()
    expect(parseSlo('x=1ms@100%')).toBeUndefined()
  })
})
