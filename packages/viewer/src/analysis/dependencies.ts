import { percentile } from '@threadline/viewer-ui/analysis'
import type { SpanRow } from '../model.js'
import type { DependencyEdge } from '../store/store.js'

interface EdgeTally {
  parent: string
  child: string
  childKind: DependencyEdge['childKind']
  errorCount: number
  durationsUs: number[]
}

/**
 * Service dependency edges, summed over traces: `parent → child` for every span whose parent
 * span belongs to another service, and `service → database` for every client span carrying
 * `db.system.name` (so `orders → postgresql` appears without an instrumented database). Each
 * edge has its call and error counts and the p95 duration of the called spans.
 */
export class DependencyCounter {
  private readonly edges = new Map<string, EdgeTally>()

  /** Counts the calls of one trace whose called span started in [startUs, endUs]. */
  addTrace(spans: readonly SpanRow[], startUs = Number.NEGATIVE_INFINITY, endUs = Number.POSITIVE_INFINITY): void {
    const serviceOf = new Map<string, string>()
    for (const span of spans) serviceOf.set(span.spanId, span.service)
    for (const span of spans) {
      if (span.startUs < startUs || span.startUs > endUs) continue
      if (span.parentSpanId !== undefined) {
        const parent = serviceOf.get(span.parentSpanId)
        if (parent !== undefined && parent !== span.service)
          this.add(parent, span.service, 'service', span.durationUs, span.error)
      }
      if (span.dbSystem !== undefined) this.add(span.service, span.dbSystem, 'database', span.durationUs, span.error)
    }
  }

  /** One call along `parent → child`. */
  add(parent: string, child: string, childKind: DependencyEdge['childKind'], durationUs: number, error: boolean): void {
    const key = `${parent}\u0000${child}\u0000${childKind}`
    let edge = this.edges.get(key)
    if (!edge) {
      edge = { parent, child, childKind, errorCount: 0, durationsUs: [] }
      this.edges.set(key, edge)
    }
    edge.durationsUs.push(durationUs)
    if (error) edge.errorCount++
  }

  result(): DependencyEdge[] {
    return [...this.edges.values()]
      .map(({ parent, child, childKind, errorCount, durationsUs }) => {
        const callCount = durationsUs.length
        return {
          parent,
          child,
          childKind,
          callCount,
          errorCount,
          errorRate: callCount ? errorCount / callCount : 0,
          p95Us: percentile(Float64Array.from(durationsUs).sort(), 0.95) ?? 0,
        }
      })
      .sort((a, b) => a.parent.localeCompare(b.parent) || a.child.localeCompare(b.child))
  }
}
