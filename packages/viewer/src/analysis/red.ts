import type { SpanKindName, SpanRow } from '../model.js'

export interface RedFigures {
  count: number
  errorCount: number
  /** Spans per second over the interval. */
  rate: number
  /** errorCount / count (0 when there were no spans). */
  errorRate: number
  /** Duration percentiles in microseconds (nearest rank); null when there were no spans. */
  p50: number | null
  p95: number | null
  p99: number | null
}

export interface RedBucket extends RedFigures {
  startUs: number
  endUs: number
}

export interface OperationRed {
  service: string
  operation: string
  spanKind: SpanKindName
  total: RedFigures
  buckets: RedBucket[]
}

/** Rate, errors and duration percentiles per operation (service + span name), in `bucketCount` equal buckets. */
export function redStatistics(
  rows: readonly SpanRow[],
  startUs: number,
  endUs: number,
  bucketCount: number,
): OperationRed[] {
  const width = Math.max(1, (endUs - startUs) / bucketCount)
  const groups = new Map<string, { row: SpanRow; all: SpanRow[]; buckets: SpanRow[][] }>()
  for (const row of rows) {
    if (row.startUs < startUs || row.startUs > endUs) continue
    const key = `${row.service}\u0000${row.name}`
    let group = groups.get(key)
    if (!group) {
      group = { row, all: [], buckets: Array.from({ length: bucketCount }, () => []) }
      groups.set(key, group)
    }
    group.all.push(row)
    const index = Math.min(bucketCount - 1, Math.floor((row.startUs - startUs) / width))
    group.buckets[index]!.push(row)
  }
  const out: OperationRed[] = []
  for (const { row, all, buckets } of groups.values()) {
    out.push({
      service: row.service,
      operation: row.name,
      spanKind: row.kind,
      total: figures(all, endUs - startUs),
      buckets: buckets.map((b, i) => ({
        startUs: startUs + i * width,
        endUs: startUs + (i + 1) * width,
        ...figures(b, width),
      })),
    })
  }
  return out.sort((a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation))
}

function figures(rows: readonly SpanRow[], widthUs: number): RedFigures {
  const count = rows.length
  let errorCount = 0
  const durations = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const row = rows[i]!
    if (row.error) errorCount++
    durations[i] = row.durationUs
  }
  durations.sort()
  return {
    count,
    errorCount,
    rate: widthUs > 0 ? count / (widthUs / 1e6) : 0,
    errorRate: count ? errorCount / count : 0,
    p50: percentile(durations, 0.5),
    p95: percentile(durations, 0.95),
    p99: percentile(durations, 0.99),
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil(q * sorted.length))
  return sorted[rank - 1]!
}
