import type { AnalysisSpan } from './span.js'
import type { TraceTree } from './tree.js'

export type CompareChange = 'same' | 'slower' | 'faster' | 'added' | 'removed'

export interface CompareRow {
  depth: number
  service: string
  name: string
  a?: AnalysisSpan | undefined
  b?: AnalysisSpan | undefined
  /** b's duration minus a's, in µs (undefined when one side is missing). */
  deltaUs?: number | undefined
  change: CompareChange
}

export interface CompareOptions {
  /** A duration change counts when it is at least this share of the larger one (default 0.2) … */
  minShare?: number
  /** … and at least this many µs (default 500). */
  minUs?: number
}

/**
 * Aligns two traces by structure: spans match when their service, name and position among
 * same-named siblings match under matched parents. Rows are in tree order, B-only spans after
 * A's at each level.
 */
export function compareTraces(a: TraceTree, b: TraceTree, options: CompareOptions = {}): CompareRow[] {
  const minShare = options.minShare ?? 0.2
  const minUs = options.minUs ?? 500
  const rows: CompareRow[] = []
  type Item = { a: AnalysisSpan | undefined; b: AnalysisSpan | undefined; depth: number }
  const push = (stack: Item[], listA: readonly AnalysisSpan[], listB: readonly AnalysisSpan[], depth: number) => {
    const pairs = align(listA, listB)
    for (let i = pairs.length - 1; i >= 0; i--) stack.push({ a: pairs[i]![0], b: pairs[i]![1], depth })
  }
  const stack: Item[] = []
  push(stack, a.roots, b.roots, 0)
  const seenA = new Set<string>()
  const seenB = new Set<string>()
  while (stack.length) {
    const { a: sa, b: sb, depth } = stack.pop()!
    // a span seen twice means a parent cycle: stop there
    if ((sa && seenA.has(sa.spanId)) || (sb && seenB.has(sb.spanId))) continue
    if (sa) seenA.add(sa.spanId)
    if (sb) seenB.add(sb.spanId)
    const span = (sa ?? sb)!
    let change: CompareChange = sa && sb ? 'same' : sa ? 'removed' : 'added'
    let deltaUs: number | undefined
    if (sa && sb) {
      const da = sa.endUs - sa.startUs
      const db = sb.endUs - sb.startUs
      deltaUs = db - da
      if (Math.abs(deltaUs) >= minUs && Math.abs(deltaUs) >= minShare * Math.max(da, db))
        change = deltaUs > 0 ? 'slower' : 'faster'
    }
    rows.push({ depth, service: span.service, name: span.name, a: sa, b: sb, deltaUs, change })
    push(stack, sa ? (a.children.get(sa.spanId) ?? []) : [], sb ? (b.children.get(sb.spanId) ?? []) : [], depth + 1)
  }
  return rows
}

function align(
  a: readonly AnalysisSpan[],
  b: readonly AnalysisSpan[],
): [AnalysisSpan | undefined, AnalysisSpan | undefined][] {
  const key = (s: AnalysisSpan) => `${s.service}\u0000${s.name}`
  const keyed = (list: readonly AnalysisSpan[]) => {
    const counts = new Map<string, number>()
    return list.map((s) => {
      const k = key(s)
      const n = counts.get(k) ?? 0
      counts.set(k, n + 1)
      return [`${k}\u0000${n}`, s] as const
    })
  }
  const bByKey = new Map(keyed(b))
  const out: [AnalysisSpan | undefined, AnalysisSpan | undefined][] = []
  for (const [k, sa] of keyed(a)) {
    out.push([sa, bByKey.get(k)])
    bByKey.delete(k)
  }
  for (const sb of bByKey.values()) out.push([undefined, sb])
  return out
}
