import type { ReadableSpan } from '../span.js'
import { EXPORT_OK, type ExportResult, type SpanExporter } from './exporter.js'

/** A node of a trace tree built from exported spans. */
export interface SpanTreeNode {
  span: ReadableSpan
  children: SpanTreeNode[]
}

/** Keeps exported spans in memory: for tests, with helpers to find spans and build trees. */
export class MemoryExporter implements SpanExporter {
  private spans: ReadableSpan[] = []
  private stopped = false

  async export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    if (this.stopped) return { ok: false, error: new Error('MemoryExporter is shut down'), retryable: false }
    this.spans.push(...spans)
    return EXPORT_OK
  }

  async shutdown(): Promise<void> {
    this.stopped = true
  }

  /** Every span exported so far, in export order. */
  getFinishedSpans(): ReadableSpan[] {
    return this.spans.slice()
  }

  reset(): void {
    this.spans = []
  }

  /** Spans with this exact name. */
  findByName(name: string): ReadableSpan[] {
    return this.spans.filter((s) => s.name === name)
  }

  /** The one span with this name; throws (for tests) if there are none or several. */
  getByName(name: string): ReadableSpan {
    const found = this.findByName(name)
    if (found.length !== 1) {
      const names = this.spans.map((s) => s.name).join(', ')
      throw new Error(`expected one span named "${name}", found ${found.length} (spans: ${names || 'none'})`)
    }
    return found[0] as ReadableSpan
  }

  /** The spans of one trace. */
  trace(traceId: string): ReadableSpan[] {
    return this.spans.filter((s) => s.spanContext().traceId === traceId)
  }

  /** The children of a span among the exported spans. */
  childrenOf(span: ReadableSpan): ReadableSpan[] {
    const id = span.spanContext().spanId
    return this.spans.filter((s) => s.parentSpanContext?.spanId === id)
  }

  /** Builds the trees of exported spans: one root per span whose parent was not exported. */
  trees(traceId?: string): SpanTreeNode[] {
    return buildTrees(traceId ? this.trace(traceId) : this.spans)
  }
}

/** Builds span trees, children ordered by start time; spans whose parent is missing are roots. */
export function buildTrees(spans: readonly ReadableSpan[]): SpanTreeNode[] {
  const nodes = new Map<string, SpanTreeNode>()
  for (const span of spans) nodes.set(span.spanContext().spanId, { span, children: [] })
  const roots: SpanTreeNode[] = []
  for (const node of nodes.values()) {
    const parentId = node.span.parentSpanContext?.spanId
    const parent = parentId ? nodes.get(parentId) : undefined
    if (parent && parent !== node) parent.children.push(node)
    else roots.push(node)
  }
  const byStart = (a: SpanTreeNode, b: SpanTreeNode) => a.span.startTime - b.span.startTime
  for (const node of nodes.values()) node.children.sort(byStart)
  return roots.sort(byStart)
}
