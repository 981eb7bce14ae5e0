import type { AnalysisSpan } from './span.js'
import type { TraceTree } from './tree.js'

export interface PathSegment {
  spanId: string
  startUs: number
  endUs: number
}

export interface CriticalPath {
  /** Segments in time order; together they cover the root span once. */
  segments: PathSegment[]
  /** Spans with at least one segment on the path. */
  spanIds: Set<string>
}

interface Frame {
  span: AnalysisSpan
  cursor: number
  kids: AnalysisSpan[]
  next: number
}

/**
 * The critical path of the trace's longest root: walking back from the root's end, the child that
 * finished last before the cursor is what the parent waited for; time no child covers is the
 * parent's own. Children that outlive their parent are clipped to it (Jaeger's definition).
 */
export function criticalPath(tree: TraceTree): CriticalPath {
  const root = longestRoot(tree)
  const segments: PathSegment[] = []
  if (!root) return { segments, spanIds: new Set() }
  const emit = (spanId: string, startUs: number, endUs: number) => {
    if (endUs > startUs) segments.push({ spanId, startUs, endUs })
  }
  const frame = (span: AnalysisSpan, cursor: number): Frame => ({
    span,
    cursor: Math.min(span.endUs, cursor),
    kids: [...(tree.children.get(span.spanId) ?? [])].sort((a, b) => b.endUs - a.endUs),
    next: 0,
  })
  const stack: Frame[] = [frame(root, root.endUs)]
  const visited = new Set<string>([root.spanId])
  while (stack.length) {
    const top = stack[stack.length - 1]!
    let pushed = false
    while (top.next < top.kids.length && top.cursor > top.span.startUs) {
      const kid = top.kids[top.next++]!
      if (kid.startUs >= top.cursor || visited.has(kid.spanId)) continue
      const kidEnd = Math.min(kid.endUs, top.cursor)
      emit(top.span.spanId, kidEnd, top.cursor)
      top.cursor = Math.max(kid.startUs, top.span.startUs)
      visited.add(kid.spanId)
      stack.push(frame(kid, kidEnd))
      pushed = true
      break
    }
    if (pushed) continue
    if (top.cursor > top.span.startUs) emit(top.span.spanId, top.span.startUs, top.cursor)
    stack.pop()
  }
  segments.sort((a, b) => a.startUs - b.startUs)
  return { segments, spanIds: new Set(segments.map((s) => s.spanId)) }
}

function longestRoot(tree: TraceTree): AnalysisSpan | undefined {
  let best: AnalysisSpan | undefined
  for (const root of tree.roots) if (!best || root.endUs - root.startUs > best.endUs - best.startUs) best = root
  return best
}
