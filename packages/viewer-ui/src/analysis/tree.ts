import type { AnalysisSpan } from './span.js'

/** A trace as a tree: spans whose parent is missing (not received yet, or another trace's) become roots. */
export interface TraceTree {
  spans: AnalysisSpan[]
  byId: Map<string, AnalysisSpan>
  /** Children of each span id, by start time. */
  children: Map<string, AnalysisSpan[]>
  roots: AnalysisSpan[]
  depth: Map<string, number>
  /** Duration minus the time covered by its children (clipped to the span), in µs. */
  selfUs: Map<string, number>
  startUs: number
  endUs: number
}

const NONE: AnalysisSpan[] = []

export function buildTree(spans: readonly AnalysisSpan[]): TraceTree {
  const byId = new Map<string, AnalysisSpan>()
  for (const span of spans) if (!byId.has(span.spanId)) byId.set(span.spanId, span)
  const unique = [...byId.values()]
  const children = new Map<string, AnalysisSpan[]>()
  const roots: AnalysisSpan[] = []
  let startUs = Number.POSITIVE_INFINITY
  let endUs = Number.NEGATIVE_INFINITY
  for (const span of unique) {
    if (span.startUs < startUs) startUs = span.startUs
    if (span.endUs > endUs) endUs = span.endUs
    const parent = span.parentSpanId
    if (parent !== undefined && parent !== span.spanId && byId.has(parent)) {
      let list = children.get(parent)
      if (!list) {
        list = []
        children.set(parent, list)
      }
      list.push(span)
    } else {
      roots.push(span)
    }
  }
  const byStart = (a: AnalysisSpan, b: AnalysisSpan) => a.startUs - b.startUs || a.endUs - b.endUs
  roots.sort(byStart)
  for (const list of children.values()) list.sort(byStart)

  // depth and self time without recursion (10k-deep chains must not blow the stack); a cycle
  // (a span its own ancestor) is cut where it is met
  const depth = new Map<string, number>()
  const selfUs = new Map<string, number>()
  const stack: AnalysisSpan[] = []
  for (let i = roots.length - 1; i >= 0; i--) {
    depth.set(roots[i]!.spanId, 0)
    stack.push(roots[i]!)
  }
  while (stack.length) {
    const span = stack.pop()!
    const d = depth.get(span.spanId)!
    const kids = children.get(span.spanId) ?? NONE
    selfUs.set(span.spanId, selfTime(span, kids))
    for (let i = kids.length - 1; i >= 0; i--) {
      const kid = kids[i]!
      if (depth.has(kid.spanId)) continue
      depth.set(kid.spanId, d + 1)
      stack.push(kid)
    }
  }
  return {
    spans: unique,
    byId,
    children,
    roots,
    depth,
    selfUs,
    startUs: unique.length ? startUs : 0,
    endUs: unique.length ? endUs : 0,
  }
}

export function childrenOf(tree: TraceTree, spanId: string): AnalysisSpan[] {
  return tree.children.get(spanId) ?? NONE
}

/** The span's time not covered by any child (children sorted by start). */
function selfTime(span: AnalysisSpan, kids: readonly AnalysisSpan[]): number {
  let covered = 0
  let cursor = span.startUs
  for (const kid of kids) {
    const from = Math.max(kid.startUs, cursor)
    const to = Math.min(kid.endUs, span.endUs)
    if (to > from) {
      covered += to - from
      cursor = to
    }
  }
  return Math.max(0, span.endUs - span.startUs - covered)
}

/** Spans in display order (depth first, children by start), skipping the subtrees of `collapsed`. */
export function flatten(tree: TraceTree, collapsed: ReadonlySet<string> = new Set()): AnalysisSpan[] {
  const out: AnalysisSpan[] = []
  const seen = new Set<string>()
  const stack: AnalysisSpan[] = []
  for (let i = tree.roots.length - 1; i >= 0; i--) stack.push(tree.roots[i]!)
  while (stack.length) {
    const span = stack.pop()!
    if (seen.has(span.spanId)) continue
    seen.add(span.spanId)
    out.push(span)
    if (collapsed.has(span.spanId)) continue
    const kids = tree.children.get(span.spanId) ?? NONE
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!)
  }
  return out
}

/** The span and its ancestors up to a root, nearest first. */
export function ancestors(tree: TraceTree, span: AnalysisSpan): AnalysisSpan[] {
  const out: AnalysisSpan[] = []
  const seen = new Set<string>([span.spanId])
  let parentId = span.parentSpanId
  while (parentId !== undefined && !seen.has(parentId)) {
    const parent = tree.byId.get(parentId)
    if (!parent) break
    seen.add(parentId)
    out.push(parent)
    parentId = parent.parentSpanId
  }
  return out
}
