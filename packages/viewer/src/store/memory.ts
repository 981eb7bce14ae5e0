import { DependencyCounter } from '../analysis/dependencies.js'
import type { AttrValue, SpanKindName, SpanRow, StoredSpan } from '../model.js'
import {
  attributeText,
  type DependencyEdge,
  type DurationQuery,
  type DurationSample,
  NewestFirst,
  type Operation,
  type RowFilter,
  type Store,
  type StoreStats,
  type TraceQuery,
  type TraceSummary,
} from './store.js'

export interface MemoryStoreOptions {
  /** Upper bound on stored spans; whole oldest traces are evicted past it. Default 1,000,000. */
  maxSpans?: number
}

interface TraceEntry {
  readonly traceId: string
  readonly spans: StoredSpan[]
  readonly spanIds: Set<string>
  startUs: number
  endUs: number
  errorCount: number
  readonly services: Map<string, number>
  /** Second of `startUs`: the key of the start-time index bucket holding this trace. */
  bucket: number
}

const BUCKET_US = 1_000_000
/** Attribute values whose search text is longer than this are not indexed; a filter on one scans. */
export const MAX_INDEXED_VALUE = 256

/**
 * Spans in memory, bounded by span count. Traces are kept in arrival order (a Map's order), so
 * eviction drops whole traces, oldest first, in O(1) each; a late span joins its trace in place.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly maxSpans: number
  private readonly traces = new Map<string, TraceEntry>()
  /** service → "kind\0name" → span count: services and operations without a scan. */
  private readonly operationIndex = new Map<string, Map<string, number>>()
  /** Start-time index: second → traces starting in it, and the seconds in ascending order. */
  private readonly buckets = new Map<number, Set<TraceEntry>>()
  private readonly bucketKeys: number[] = []
  /**
   * Attribute index: "key\0text" → the traces with a span having that span or resource attribute,
   * `text` being the value as search compares it (`searchText`). One trace is held bare, more in a
   * Set (most values of a high-cardinality key such as a user id name one trace or a few).
   */
  private readonly attributeIndex = new Map<string, TraceEntry | Set<TraceEntry>>()
  /** Longest trace seen: how far before a window a trace may start and still reach into it. */
  private longestUs = 0
  private spanCount = 0
  private evicted = 0
  private duplicates = 0

  constructor(options: MemoryStoreOptions = {}) {
    this.maxSpans = Math.max(1, options.maxSpans ?? 1_000_000)
  }

  async add(spans: StoredSpan[]): Promise<number> {
    return this.addNow(spans)
  }

  /** The synchronous body of `add`, for callers that need no promise. */
  addNow(spans: readonly StoredSpan[]): number {
    let added = 0
    for (const span of spans) {
      let entry = this.traces.get(span.traceId)
      if (!entry) {
        entry = {
          traceId: span.traceId,
          spans: [],
          spanIds: new Set(),
          startUs: span.startUs,
          endUs: span.startUs + span.durationUs,
          errorCount: 0,
          services: new Map(),
          bucket: Math.floor(span.startUs / BUCKET_US),
        }
        this.traces.set(span.traceId, entry)
        this.place(entry)
      } else if (entry.spanIds.has(span.spanId)) {
        this.duplicates++
        continue
      }
      entry.spans.push(span)
      entry.spanIds.add(span.spanId)
      if (span.startUs < entry.startUs) {
        entry.startUs = span.startUs
        const bucket = Math.floor(span.startUs / BUCKET_US)
        if (bucket !== entry.bucket) {
          this.unplace(entry)
          entry.bucket = bucket
          this.place(entry)
        }
      }
      const end = span.startUs + span.durationUs
      if (end > entry.endUs) entry.endUs = end
      if (entry.endUs - entry.startUs > this.longestUs) this.longestUs = entry.endUs - entry.startUs
      if (span.error) entry.errorCount++
      entry.services.set(span.service, (entry.services.get(span.service) ?? 0) + 1)
      this.index(span, 1)
      this.indexAttributes(entry, span)
      this.spanCount++
      added++
    }
    while (this.spanCount > this.maxSpans) {
      const oldest = this.traces.values().next().value
      if (!oldest) break
      this.evicted += oldest.spans.length
      this.remove(oldest)
    }
    return added
  }

  private index(span: StoredSpan, delta: number): void {
    let operations = this.operationIndex.get(span.service)
    if (!operations) {
      operations = new Map()
      this.operationIndex.set(span.service, operations)
    }
    const key = `${span.kind}\u0000${span.name}`
    const n = (operations.get(key) ?? 0) + delta
    if (n > 0) operations.set(key, n)
    else {
      operations.delete(key)
      if (operations.size === 0) this.operationIndex.delete(span.service)
    }
  }

  private indexAttributes(entry: TraceEntry, span: StoredSpan): void {
    for (const key in span.attributes) this.link(key, span.attributes[key], entry)
    for (const key in span.resource) this.link(key, span.resource[key], entry)
  }

  private link(key: string, value: AttrValue | undefined, entry: TraceEntry): void {
    const text = indexText(value)
    if (text === undefined) return
    const k = `${key}\u0000${text}`
    const held = this.attributeIndex.get(k)
    if (held === undefined) this.attributeIndex.set(k, entry)
    else if (held instanceof Set) held.add(entry)
    else if (held !== entry) this.attributeIndex.set(k, new Set([held, entry]))
  }

  private unlinkAll(entry: TraceEntry): void {
    for (const span of entry.spans) {
      for (const key in span.attributes) this.unlink(key, span.attributes[key], entry)
      for (const key in span.resource) this.unlink(key, span.resource[key], entry)
    }
  }

  private unlink(key: string, value: AttrValue | undefined, entry: TraceEntry): void {
    const text = indexText(value)
    if (text === undefined) return
    const k = `${key}\u0000${text}`
    const held = this.attributeIndex.get(k)
    if (held === entry) this.attributeIndex.delete(k)
    else if (held instanceof Set) {
      held.delete(entry)
      if (held.size === 1) this.attributeIndex.set(k, held.values().next().value!)
      else if (held.size === 0) this.attributeIndex.delete(k)
    }
  }

  /**
   * The traces that can match every filter: the smallest index entry among the filters, or
   * undefined when no filter can be answered from the index (values too long to be indexed).
   */
  private candidates(filters: readonly AttributeFilter[]): ReadonlySet<TraceEntry> | undefined {
    let best: ReadonlySet<TraceEntry> | undefined
    for (const f of filters) {
      // keys every object inherits (`constructor`, `__proto__`) match through the prototype: scan
      if (f.text.length > MAX_INDEXED_VALUE || f.key in Object.prototype) continue
      const held = this.attributeIndex.get(`${f.key}\u0000${f.text}`)
      if (held === undefined) return new Set()
      const set = held instanceof Set ? held : new Set([held])
      if (best === undefined || set.size < best.size) best = set
    }
    return best
  }

  /** Attribute index entries (for tests): how many `key=value` texts are indexed. */
  attributeIndexSize(): number {
    return this.attributeIndex.size
  }

  private place(entry: TraceEntry): void {
    let set = this.buckets.get(entry.bucket)
    if (!set) {
      set = new Set()
      this.buckets.set(entry.bucket, set)
      // seconds arrive almost in order: search for the slot from the end
      let i = this.bucketKeys.length
      while (i > 0 && this.bucketKeys[i - 1]! > entry.bucket) i--
      this.bucketKeys.splice(i, 0, entry.bucket)
    }
    set.add(entry)
  }

  private unplace(entry: TraceEntry): void {
    const set = this.buckets.get(entry.bucket)
    if (!set) return
    set.delete(entry)
    if (set.size > 0) return
    this.buckets.delete(entry.bucket)
    const i = lowerBound(this.bucketKeys, entry.bucket)
    if (this.bucketKeys[i] === entry.bucket) this.bucketKeys.splice(i, 1)
  }

  /** Traces whose start lies in [fromUs, toUs], newest second first. */
  private *newestFirst(fromUs: number, toUs: number): Generator<Set<TraceEntry>, void, undefined> {
    const from = Math.floor(fromUs / BUCKET_US)
    const to = Math.floor(toUs / BUCKET_US)
    for (let i = this.bucketKeys.length - 1; i >= 0; i--) {
      const key = this.bucketKeys[i]!
      if (key > to) continue
      if (key < from) return
      yield this.buckets.get(key)!
    }
  }

  private remove(entry: TraceEntry): void {
    this.unplace(entry)
    this.traces.delete(entry.traceId)
    this.spanCount -= entry.spans.length
    for (const span of entry.spans) this.index(span, -1)
    this.unlinkAll(entry)
  }

  services(): string[] {
    return [...this.operationIndex.keys()].sort()
  }

  operations(service: string, spanKind?: SpanKindName): Operation[] {
    const operations = this.operationIndex.get(service)
    if (!operations) return []
    const out: Operation[] = []
    for (const key of operations.keys()) {
      const cut = key.indexOf('\u0000')
      const kind = key.slice(0, cut) as SpanKindName
      if (spanKind === undefined || kind === spanKind) out.push({ name: key.slice(cut + 1), spanKind: kind })
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.spanKind.localeCompare(b.spanKind))
  }

  search(query: TraceQuery): TraceSummary[] {
    const top = new NewestFirst<TraceEntry & { startUs: number }>(Math.max(1, query.limit))
    const needSpanScan =
      query.operation !== undefined ||
      query.spanKind !== undefined ||
      query.attributes !== undefined ||
      query.minDurationUs !== undefined ||
      query.maxDurationUs !== undefined ||
      query.startUs !== undefined ||
      query.endUs !== undefined
    const startUs = query.startUs ?? Number.NEGATIVE_INFINITY
    const endUs = query.endUs ?? Number.POSITIVE_INFINITY
    const filters = query.attributes ? Object.entries(query.attributes).map(compileFilter) : []
    const candidates = filters.length > 0 ? this.candidates(filters) : undefined
    const accepts = (entry: TraceEntry): boolean => {
      if (query.errorsOnly && entry.errorCount === 0) return false
      if (query.service !== undefined && !entry.services.has(query.service)) return false
      if (entry.endUs < startUs || entry.startUs > endUs) return false
      if (candidates !== undefined && !candidates.has(entry)) return false
      return !needSpanScan || anyMatches(entry.spans, query, startUs, endUs, filters)
    }
    // checking n candidates costs n; the scan stops after about limit × traces / n traces
    const n = candidates?.size ?? Number.POSITIVE_INFINITY
    if (n <= 64 || n * n <= Math.max(1, query.limit) * this.traces.size) {
      // few traces carry the value: check them, then offer the matches in the order the scan
      // below would (newest second first, each second in its own order), so ties come out alike
      const matched = new Set<TraceEntry>()
      for (const entry of candidates!) if (accepts(entry)) matched.add(entry)
      const seconds = [...new Set([...matched].map((e) => e.bucket))].sort((a, b) => b - a)
      for (const second of seconds) {
        if (!top.wants((second + 1) * BUCKET_US)) break
        for (const entry of this.buckets.get(second)!) if (matched.has(entry)) top.offer(entry)
      }
      return top.items.map(summarize)
    }
    // newest second first; once `limit` traces are found, older seconds cannot beat them
    for (const bucket of this.newestFirst(startUs - this.longestUs, endUs)) {
      const first = bucket.values().next().value!
      if (!top.wants((first.bucket + 1) * BUCKET_US)) break
      for (const entry of bucket) {
        if (!top.wants(entry.startUs)) continue
        if (accepts(entry)) top.offer(entry)
      }
    }
    return top.items.map(summarize)
  }

  trace(traceId: string): StoredSpan[] | undefined {
    const entry = this.traces.get(traceId)
    return entry ? [...entry.spans].sort((a, b) => a.startUs - b.startUs) : undefined
  }

  dependencies(startUs: number, endUs: number): DependencyEdge[] {
    const counter = new DependencyCounter()
    for (const bucket of this.newestFirst(startUs - this.longestUs, endUs)) {
      for (const entry of bucket) {
        if (entry.endUs < startUs || entry.startUs > endUs) continue
        counter.addTrace(entry.spans, startUs, endUs)
      }
    }
    return counter.result()
  }

  rows(filter: RowFilter): SpanRow[] {
    const out: SpanRow[] = []
    for (const bucket of this.newestFirst(filter.startUs - this.longestUs, filter.endUs)) {
      for (const entry of bucket) {
        if (entry.endUs < filter.startUs || entry.startUs > filter.endUs) continue
        if (filter.service !== undefined && !entry.services.has(filter.service)) continue
        for (const span of entry.spans) {
          if (span.startUs < filter.startUs || span.startUs > filter.endUs) continue
          if (filter.service !== undefined && span.service !== filter.service) continue
          if (filter.operation !== undefined && span.name !== filter.operation) continue
          out.push(span)
        }
      }
    }
    return out
  }

  durations(query: DurationQuery): DurationSample {
    const matches: { startUs: number; durationUs: number }[] = []
    let breaches = 0
    const threshold = query.thresholdUs
    for (const bucket of this.newestFirst(query.startUs - this.longestUs, query.endUs)) {
      for (const entry of bucket) {
        if (entry.endUs < query.startUs || entry.startUs > query.endUs) continue
        if (!entry.services.has(query.service)) continue
        for (const span of entry.spans) {
          if (span.startUs < query.startUs || span.startUs > query.endUs) continue
          if (span.service !== query.service || span.name !== query.operation) continue
          if (query.spanKind !== undefined && span.kind !== query.spanKind) continue
          if (threshold !== undefined && span.durationUs > threshold) breaches++
          matches.push({ startUs: span.startUs, durationUs: span.durationUs })
        }
      }
    }
    matches.sort((a, b) => b.startUs - a.startUs)
    const sample: DurationSample = {
      total: matches.length,
      durationsUs: matches.slice(0, query.limit).map((m) => m.durationUs),
    }
    if (threshold !== undefined) sample.breaches = breaches
    return sample
  }

  prune(cutoffUs: number): number {
    let removed = 0
    for (const entry of this.traces.values()) {
      if (entry.endUs < cutoffUs) {
        removed += entry.spans.length
        this.remove(entry)
      }
    }
    this.evicted += removed
    return removed
  }

  stats(): StoreStats {
    return {
      spans: this.spanCount,
      traces: this.traces.size,
      evictedSpans: this.evicted,
      duplicateSpans: this.duplicates,
    }
  }

  async close(): Promise<void> {
    this.traces.clear()
    this.buckets.clear()
    this.bucketKeys.length = 0
    this.operationIndex.clear()
    this.attributeIndex.clear()
    this.spanCount = 0
  }
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * An attribute value as `matches` compares it with a filter's text: a span matches `key=text`
 * exactly when this is `text` (strings as is, finite numbers and booleans by `String`, the rest
 * as JSON); undefined when no text can match, or the text is too long to index.
 */
export function indexText(value: AttrValue | undefined): string | undefined {
  let text: string | undefined
  if (value === undefined) return undefined
  if (typeof value === 'string') text = value
  else if (typeof value === 'number') text = Number.isFinite(value) ? String(value) : undefined
  else if (typeof value === 'boolean') text = value ? 'true' : 'false'
  else text = attributeText(value) as string | undefined
  return text !== undefined && text.length <= MAX_INDEXED_VALUE ? text : undefined
}

interface AttributeFilter {
  key: string
  text: string
  number: number | undefined
  bool: boolean | undefined
}

/** `key=value` as text, pre-parsed so numbers and booleans compare without formatting each value. */
function compileFilter([key, text]: [string, string]): AttributeFilter {
  const n = text.trim() === '' ? Number.NaN : Number(text)
  return {
    key,
    text,
    number: Number.isFinite(n) && String(n) === text ? n : undefined,
    bool: text === 'true' ? true : text === 'false' ? false : undefined,
  }
}

// hot path: a search without an index runs this for every span (1M spans: tens of ms)
function anyMatches(
  spans: readonly StoredSpan[],
  query: TraceQuery,
  startUs: number,
  endUs: number,
  filters: AttributeFilter[],
): boolean {
  for (let i = 0; i < spans.length; i++) if (matches(spans[i]!, query, startUs, endUs, filters)) return true
  return false
}

function matches(
  span: StoredSpan,
  query: TraceQuery,
  startUs: number,
  endUs: number,
  filters: AttributeFilter[],
): boolean {
  if (query.service !== undefined && span.service !== query.service) return false
  if (query.operation !== undefined && span.name !== query.operation) return false
  if (query.spanKind !== undefined && span.kind !== query.spanKind) return false
  if (span.startUs < startUs || span.startUs > endUs) return false
  if (query.minDurationUs !== undefined && span.durationUs < query.minDurationUs) return false
  if (query.maxDurationUs !== undefined && span.durationUs > query.maxDurationUs) return false
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!
    let found = span.attributes[f.key]
    if (found === undefined) found = span.resource[f.key]
    if (found === undefined) return false
    if (typeof found === 'string') {
      if (found !== f.text) return false
    } else if (typeof found === 'number') {
      if (found !== f.number) return false
    } else if (typeof found === 'boolean') {
      if (found !== f.bool) return false
    } else if (attributeText(found) !== f.text) return false
  }
  return true
}

/** The summary the search list shows; shared by both stores. */
export function summarizeSpans(traceId: string, spans: readonly SpanRow[]): TraceSummary {
  let start = Number.POSITIVE_INFINITY
  let end = Number.NEGATIVE_INFINITY
  let errorCount = 0
  let root: SpanRow | undefined
  let rootRankSeen = 3
  const ids = new Set<string>()
  for (const span of spans) ids.add(span.spanId)
  const services = new Map<string, number>()
  for (const span of spans) {
    if (span.startUs < start) start = span.startUs
    if (span.startUs + span.durationUs > end) end = span.startUs + span.durationUs
    if (span.error) errorCount++
    services.set(span.service, (services.get(span.service) ?? 0) + 1)
    const rank = rootRank(span, ids)
    if (rank < rootRankSeen || (rank === rootRankSeen && span.startUs < root!.startUs)) {
      root = span
      rootRankSeen = rank
    }
  }
  return {
    traceId,
    rootService: root?.service ?? '',
    rootName: root?.name ?? '',
    startUs: start,
    durationUs: end - start,
    spanCount: spans.length,
    errorCount,
    services: [...services]
      .map(([name, spanCount]) => ({ name, spanCount }))
      .sort((a, b) => b.spanCount - a.spanCount || a.name.localeCompare(b.name)),
  }
}

/** The root has no parent; until it arrives, the earliest span whose parent is missing stands in. */
function rootRank(span: SpanRow, ids: Set<string>): number {
  if (span.parentSpanId === undefined) return 0
  return ids.has(span.parentSpanId) ? 2 : 1
}

function summarize(entry: TraceEntry): TraceSummary {
  return summarizeSpans(entry.traceId, entry.spans)
}
