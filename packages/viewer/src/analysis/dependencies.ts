import type { SpanRow } from '../model.js'
import type { DependencyEdge } from '../store/store.js'

/**
 * Service dependency edges, summed over traces: `parent → child` for every span whose parent
 * span belongs to another service, and `service → database` for every client span carrying
 * `db.system.name` (so `orders → postgresql` appears without an instrumented database).
 */
export class DependencyCounter {
  private readonly edges = new Map<string, DependencyEdge>()

  /** Counts the calls of one trace whose called span started in [startUs, endUs]. */
  addTrace(spans: readonly SpanRow[], startUs = Number.NEGATIVE_INFINITY, endUs = Number.POSITIVE_INFINITY): void {
    const serviceOf = new Map<string, string>()
    for (const span of spans) serviceOf.set(span.spanId, span.service)
    for (const span of spans) {
      if (span.startUs < startUs || span.startUs > endUs) continue
      if (span.parentSpanId !== undefined) {
        const parent = serviceOf.get(span.parentSpanId)
        if (parent !== undefined && parent !== span.service)
          this.add(parent, span.service, 'service', 1, span.error ? 1 : 0)
      }
      if (span.dbSystem !== undefined) this.add(span.service, span.dbSystem, 'database', 1, span.error ? 1 : 0)
    }
  }

  add(parent: string, child: string, childKind: DependencyEdge['childKind'], calls: number, errors: number): void {
    const key = `${parent}\u0000${child}\u0000${childKind}`
    let edge = this.edges.get(key)
    if (!edge) {
      edge = { parent, child, childKind, callCount: 0, errorCount: 0 }
      this.edges.set(key, edge)
    }
    edge.callCount += calls
    edge.errorCount += errors
  }

  result(): DependencyEdge[] {
    return [...this.edges.values()].sort((a, b) => a.parent.localeCompare(b.parent) || a.child.localeCompare(b.child))
  }
}
