import {
  callKey,
  callLabel,
  dbSystem,
  graphqlPath,
  isConnectSpan,
  isPerItemResolver,
  isTransactionControl,
} from './calls.js'
import type { AnalysisSpan } from './span.js'
import { isError } from './span.js'
import { ancestors, flatten, type TraceTree } from './tree.js'

export type FindingType = 'n-plus-one' | 'sequential-calls' | 'error-root-cause' | 'largest-self-time'

export interface Finding {
  type: FindingType
  severity: 'high' | 'medium' | 'low'
  title: string
  detail: string
  /** The spans the finding is about; the first is the one to show. */
  spanIds: string[]
  /** The span the repeated or sequential calls hang under. */
  parentSpanId?: string | undefined
  /** GraphQL field path (list indices as `*`) the calls were made from. */
  graphqlPath?: string | undefined
  /** Repeated calls: how many, and whether they ran one after another or together. */
  count?: number | undefined
  /** How many callers each repeated the calls (a loop around the loop); 1 usually. */
  parents?: number | undefined
  concurrency?: 'sequential' | 'concurrent' | 'mixed' | undefined
  /** Time the calls took, and what running them in parallel (or batching them) could save, in µs. */
  totalUs?: number | undefined
  savingUs?: number | undefined
}

export interface FindingOptions {
  /** Same call this many times under one parent is an N+1 (default 3). */
  minRepeats?: number
  /** Sequential calls worth reporting save at least this much if run in parallel (default 1 ms). */
  minSavingUs?: number
}

export function analyzeTrace(tree: TraceTree, options: FindingOptions = {}): Finding[] {
  const minRepeats = Math.max(2, options.minRepeats ?? 3)
  const minSavingUs = options.minSavingUs ?? 1000
  const findings: Finding[] = []
  const inNPlusOne = new Set<string>()
  findings.push(...nPlusOne(tree, minRepeats, inNPlusOne))
  findings.push(...sequentialCalls(tree, minSavingUs, inNPlusOne))
  findings.push(...errorRootCauses(tree))
  const self = largestSelfTime(tree)
  if (self) findings.push(self)
  return findings
}

/** The caller of a call: its parent, looking through pool/connect spans and per-list-item resolver spans. */
function anchorOf(tree: TraceTree, span: AnalysisSpan): { anchor: AnalysisSpan | undefined; path: string | undefined } {
  let path: string | undefined
  let anchor: AnalysisSpan | undefined
  for (const parent of ancestors(tree, span)) {
    path ??= graphqlPath(parent)
    if (isConnectSpan(parent) || isPerItemResolver(parent)) continue
    anchor = parent
    break
  }
  return { anchor, path }
}

function nPlusOne(tree: TraceTree, minRepeats: number, claimed: Set<string>): Finding[] {
  const groups = new Map<
    string,
    { anchor: AnalysisSpan | undefined; path: string | undefined; spans: AnalysisSpan[] }
  >()
  for (const span of tree.spans) {
    const key = callKey(span)
    if (key === undefined || isTransactionControl(span)) continue
    const { anchor, path } = anchorOf(tree, span)
    const id = `${anchor?.spanId ?? ''}\u0000${path ?? ''}\u0000${key}`
    let group = groups.get(id)
    if (!group) {
      group = { anchor, path, spans: [] }
      groups.set(id, group)
    }
    group.spans.push(span)
  }
  // the same repeat under many callers of one kind (a loop around the loop) is one finding
  const merged = new Map<string, { anchors: AnalysisSpan[]; path: string | undefined; groups: AnalysisSpan[][] }>()
  for (const [id, { anchor, path, spans }] of groups) {
    if (spans.length < minRepeats) continue
    const key = id.slice(id.indexOf('\u0000'))
    const mergeKey = anchor ? `${anchor.service}\u0000${anchor.name}${key}` : id
    let entry = merged.get(mergeKey)
    if (!entry) {
      entry = { anchors: [], path, groups: [] }
      merged.set(mergeKey, entry)
    }
    if (anchor) entry.anchors.push(anchor)
    spans.sort((a, b) => a.startUs - b.startUs)
    entry.groups.push(spans)
  }
  const out: Finding[] = []
  for (const { anchors, path, groups: repeats } of merged.values()) {
    const spans = repeats.flat()
    for (const s of spans) claimed.add(s.spanId)
    const first = spans[0]!
    const anchor = anchors[0]
    const perParent = Math.round(spans.length / repeats.length)
    const isDb = dbSystem(first) !== undefined
    const kinds = repeats.map(overlapKind)
    const concurrency = kinds.every((k) => k === kinds[0]) ? kinds[0]! : 'mixed'
    const totalUs = spans.reduce((sum, s) => sum + (s.endUs - s.startUs), 0)
    const savingUs = repeats.reduce((sum, group) => {
      const wall = Math.max(...group.map((s) => s.endUs)) - group[0]!.startUs
      return sum + Math.max(0, wall - Math.max(...group.map((s) => s.endUs - s.startUs)))
    }, 0)
    const where = path ? ` resolving ${path}` : anchor ? ` under ${anchor.name}` : ''
    const times =
      repeats.length > 1
        ? ` (in each of ${repeats.length} ${anchor?.name ?? 'callers'} spans, ${spans.length} in all)`
        : ''
    const ran =
      concurrency === 'concurrent'
        ? 'ran concurrently'
        : concurrency === 'sequential'
          ? 'ran one after another'
          : 'ran partly concurrently'
    out.push({
      type: 'n-plus-one',
      severity: spans.length >= 10 ? 'high' : 'medium',
      title: `N+1 ${isDb ? 'query' : 'call'}: ${callLabel(first)} × ${repeats.length > 1 ? perParent : spans.length}${where}${times}`,
      detail: `${repeats.length > 1 ? `About ${perParent}` : spans.length} ${isDb ? 'identical queries' : 'calls to the same route'} ${ran}${anchor ? ` under "${anchor.name}" (${anchor.service})` : ''}; one ${isDb ? 'batched query (WHERE … IN, a join or a DataLoader)' : 'batch request'} would replace them.`,
      spanIds: spans.map((s) => s.spanId),
      parentSpanId: anchor?.spanId,
      graphqlPath: path,
      count: spans.length,
      parents: repeats.length,
      concurrency,
      totalUs,
      savingUs,
    })
  }
  return out.sort((a, b) => (b.count ?? 0) - (a.count ?? 0))
}

function overlapKind(sorted: readonly AnalysisSpan[]): 'sequential' | 'concurrent' | 'mixed' {
  let overlaps = 0
  let maxEnd = Number.NEGATIVE_INFINITY
  for (const span of sorted) {
    if (span.startUs < maxEnd) overlaps++
    maxEnd = Math.max(maxEnd, span.endUs)
  }
  return overlaps === 0 ? 'sequential' : overlaps === sorted.length - 1 ? 'concurrent' : 'mixed'
}

/** Sibling client calls (seen through pool/connect spans) that never overlap: they could run in parallel. */
function sequentialCalls(tree: TraceTree, minSavingUs: number, claimed: ReadonlySet<string>): Finding[] {
  const byParent = new Map<string, AnalysisSpan[]>()
  for (const span of tree.spans) {
    if (span.kind !== 'client' && span.kind !== 'producer') continue
    if (claimed.has(span.spanId) || isConnectSpan(span) || callKey(span) === undefined) continue
    let parent = span.parentSpanId ? tree.byId.get(span.parentSpanId) : undefined
    while (parent && isConnectSpan(parent))
      parent = parent.parentSpanId ? tree.byId.get(parent.parentSpanId) : undefined
    if (!parent) continue
    let list = byParent.get(parent.spanId)
    if (!list) {
      list = []
      byParent.set(parent.spanId, list)
    }
    list.push(span)
  }
  const out: Finding[] = []
  for (const [parentId, spans] of byParent) {
    // queries inside one transaction share a connection: they cannot run in parallel
    if (spans.some(isTransactionControl)) continue
    if (spans.length < 2) continue
    spans.sort((a, b) => a.startUs - b.startUs)
    if (overlapKind(spans) !== 'sequential') continue
    const durations = spans.map((s) => s.endUs - s.startUs)
    const totalUs = durations.reduce((a, b) => a + b, 0)
    const savingUs = totalUs - Math.max(...durations)
    if (savingUs < minSavingUs) continue
    const parent = tree.byId.get(parentId)!
    out.push({
      type: 'sequential-calls',
      severity: 'low',
      title: `${spans.length} sequential calls under ${parent.name} could run in parallel`,
      detail: `${spans.map(callLabel).join(' → ')} ran one after another; if they do not depend on each other, running them together (Promise.all) would save up to ${formatMs(savingUs)}.`,
      spanIds: spans.map((s) => s.spanId),
      parentSpanId: parentId,
      count: spans.length,
      concurrency: 'sequential',
      totalUs,
      savingUs,
    })
  }
  return out.sort((a, b) => (b.savingUs ?? 0) - (a.savingUs ?? 0))
}

/** Error spans with no failed descendant: where the error started. The primary one heads the longest chain of failed ancestors. */
function errorRootCauses(tree: TraceTree): Finding[] {
  const order = flatten(tree)
  const errorBelow = new Set<string>()
  for (let i = order.length - 1; i >= 0; i--) {
    const span = order[i]!
    if ((isError(span) || errorBelow.has(span.spanId)) && span.parentSpanId) errorBelow.add(span.parentSpanId)
  }
  const origins = order.filter((s) => isError(s) && !errorBelow.has(s.spanId))
  const chains = origins.map((origin) => ({
    origin,
    chain: [origin, ...ancestors(tree, origin).filter(isError)],
  }))
  chains.sort((a, b) => b.chain.length - a.chain.length || a.origin.startUs - b.origin.startUs)
  return chains.slice(0, 5).map(({ origin, chain }, i) => {
    const exception = origin.events.find((e) => e.name === 'exception')
    const type = exception?.attributes['exception.type']
    const message = exception?.attributes['exception.message'] ?? origin.status.message
    const why = [type, message].filter((x) => typeof x === 'string' && x).join(': ')
    return {
      type: 'error-root-cause' as const,
      severity: i === 0 ? ('high' as const) : ('medium' as const),
      title: `${i === 0 ? 'Error started' : 'Also failed'} in ${origin.name} (${origin.service})`,
      detail: `${why || 'status ERROR'}${chain.length > 1 ? `; it failed ${chain.length - 1} caller${chain.length > 2 ? 's' : ''} up to ${chain[chain.length - 1]!.name}` : ''}.`,
      spanIds: chain.map((s) => s.spanId),
    }
  })
}

function largestSelfTime(tree: TraceTree): Finding | undefined {
  if (tree.spans.length < 2) return undefined
  let best: AnalysisSpan | undefined
  let bestSelf = -1
  for (const span of tree.spans) {
    const self = tree.selfUs.get(span.spanId) ?? 0
    if (self > bestSelf) {
      best = span
      bestSelf = self
    }
  }
  if (!best || bestSelf <= 0) return undefined
  const total = Math.max(1, tree.endUs - tree.startUs)
  const share = bestSelf / total
  return {
    type: 'largest-self-time',
    severity: share > 0.5 ? 'medium' : 'low',
    title: `Most time spent in ${best.name} itself (${formatMs(bestSelf)}, ${Math.round(share * 100)}% of the trace)`,
    detail: `${best.name} (${best.service}) spent ${formatMs(bestSelf)} outside any child span: its own code, or work that is not instrumented.`,
    spanIds: [best.spanId],
    totalUs: bestSelf,
  }
}

export function formatMs(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 1e5 ? 0 : 1)} ms`
  return `${Math.round(us)} µs`
}
