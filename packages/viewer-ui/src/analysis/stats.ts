import type { TraceTree } from './tree.js'

export interface StatsRow {
  service: string
  /** Undefined on a per-service row. */
  operation?: string | undefined
  count: number
  errorCount: number
  totalUs: number
  selfUs: number
  maxUs: number
}

/** Count, total and self time by service, and by service + operation (span name), largest self time first. */
export function traceStats(tree: TraceTree): { services: StatsRow[]; operations: StatsRow[] } {
  const services = new Map<string, StatsRow>()
  const operations = new Map<string, StatsRow>()
  for (const span of tree.spans) {
    const duration = span.endUs - span.startUs
    const self = tree.selfUs.get(span.spanId) ?? 0
    const error = span.status.code === 'ERROR' ? 1 : 0
    for (const [map, key, operation] of [
      [services, span.service, undefined],
      [operations, `${span.service}\u0000${span.name}`, span.name],
    ] as const) {
      let row = map.get(key)
      if (!row) {
        row = { service: span.service, operation, count: 0, errorCount: 0, totalUs: 0, selfUs: 0, maxUs: 0 }
        map.set(key, row)
      }
      row.count++
      row.errorCount += error
      row.totalUs += duration
      row.selfUs += self
      row.maxUs = Math.max(row.maxUs, duration)
    }
  }
  const bySelf = (a: StatsRow, b: StatsRow) => b.selfUs - a.selfUs
  return { services: [...services.values()].sort(bySelf), operations: [...operations.values()].sort(bySelf) }
}
