/** Nearest-rank percentile (`q` in 0..1) of ascending `sorted` values; null when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)))
  return sorted[rank - 1]!
}

export interface Percentiles {
  count: number
  min: number | null
  p50: number | null
  p90: number | null
  p95: number | null
  p99: number | null
  max: number | null
}

export function percentiles(values: Iterable<number>): Percentiles {
  const sorted = Float64Array.from(values).sort()
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0]! : null,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : null,
  }
}

export interface HistogramBin {
  fromUs: number
  toUs: number
  count: number
}

/**
 * Latency histogram on log-spaced bins (durations spread over orders of magnitude), from the
 * smallest to the largest value.
 */
export function histogram(values: readonly number[], binCount = 30): HistogramBin[] {
  const positive = values.filter((v) => Number.isFinite(v) && v >= 0)
  if (!positive.length) return []
  const lo = Math.max(1, Math.min(...positive))
  const hi = Math.max(lo * 1.0001, Math.max(...positive))
  const logLo = Math.log(lo)
  const step = (Math.log(hi) - logLo) / binCount
  const bins: HistogramBin[] = Array.from({ length: binCount }, (_, i) => ({
    fromUs: Math.exp(logLo + i * step),
    toUs: Math.exp(logLo + (i + 1) * step),
    count: 0,
  }))
  for (const v of positive) {
    const i = v <= lo ? 0 : Math.min(binCount - 1, Math.floor((Math.log(v) - logLo) / step))
    bins[i]!.count++
  }
  return bins
}

export interface SloReport {
  thresholdUs: number
  /** Target share of requests at or under the threshold, 0..1 (0.99 for 99%). */
  target: number
  total: number
  breaches: number
  breachRate: number
  /** Error-budget burn rate: breach rate / allowed breach rate (1 = spending exactly the budget). */
  burnRate: number
  met: boolean
}

export function sloReport(durationsUs: readonly number[], thresholdUs: number, target: number): SloReport {
  let breaches = 0
  for (const d of durationsUs) if (d > thresholdUs) breaches++
  return sloReportFromCounts(durationsUs.length, breaches, thresholdUs, target)
}

/** The same report from counts alone: `breaches` of `total` requests took longer than `thresholdUs`. */
export function sloReportFromCounts(total: number, breaches: number, thresholdUs: number, target: number): SloReport {
  const breachRate = total ? breaches / total : 0
  const allowed = Math.max(1e-9, 1 - target)
  return {
    thresholdUs,
    target,
    total,
    breaches,
    breachRate,
    burnRate: breachRate / allowed,
    met: breachRate <= allowed,
  }
}

/** `GET /orders/:id=200ms@99%` → operation, threshold (µs) and target; undefined when malformed. */
export function parseSlo(text: string): { operation: string; thresholdUs: number; target: number } | undefined {
  const match = /^(.*)=\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*@\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text)
  if (!match) return undefined
  const unit = { us: 1, µs: 1, ms: 1e3, s: 1e6 }[match[3] as 'us' | 'µs' | 'ms' | 's']
  const target = Number((Number(match[4]) / 100).toFixed(8))
  if (!(target > 0 && target < 1)) return undefined
  return { operation: match[1]!.trim(), thresholdUs: Number(match[2]) * unit, target }
}
