import { DependencyCounter } from '../analysis/dependencies.js'
import { type Attrs, type AttrValue, KIND_NAMES, type SpanKindName, type SpanRow, type StoredSpan } from '../model.js'

const KIND_INDEX = Object.fromEntries(KIND_NAMES.map((kind, i) => [kind, i])) as Record<SpanKindName, number>

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
  /** Span ids for the duplicate check, once the trace has `SPAN_ID_SET` spans; below, a scan is cheaper. */
  spanIds: Set<string> | undefined
  /** Resource whose attributes were last indexed for this trace: spans of one export share it. */
  indexedResource: Attrs | undefined
  /** The attribute index postings that list this trace (a Set too once there are many). */
  postings: Posting[]
  postingSet: Set<Posting> | undefined
  /** Set once the trace left the store; postings drop it lazily. */
  removed: boolean
  startUs: number
  endUs: number
  errorCount: number
  /** The services with spans in this trace (a handful: a list beats a Map). */
  readonly services: string[]
  /** Second of `startUs`: the key of the start-time index bucket holding this trace. */
  bucket: number
}

const BUCKET_US = 1_000_000
const SPAN_ID_SET = 16
const POSTING_SET = 32

/** The traces that have one `key=value` attribute (on a span or its resource). */
interface Posting {
  readonly key: string
  readonly value: IndexValue
  /** In the order the traces got the value, each once; removed traces stay until compaction. */
  entries: TraceEntry[]
  /** How many of `entries` are removed. */
  removed: number
}

/** What a search gets from the index: traces that may match (some possibly removed), and how many are live. */
interface Candidates {
  readonly entries: readonly TraceEntry[]
  readonly size: number
}
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
  /** service → span name → span counts by kind: services and operations without a scan. */
  private readonly operationIndex = new Map<
    string,
    { name: string; operations: Map<string, { name: string; spans: number[]; total: number }> }
  >()
  /** Start-time index: second → traces starting in it, and the seconds in ascending order. */
  private readonly buckets = new Map<number, Set<TraceEntry>>()
  private readonly bucketKeys: number[] = []
  /**
   * Attribute index: key → value (`indexValue`) → the traces with a span having that span or
   * resource attribute. Two levels and primitive values, not one "key=text" string: no string is
   * built per attribute and numbers are not formatted. Postings are arrays, appended to in arrival
   * order and compacted lazily: a common value (GET, 200) names most traces, and adding to a Set
   * that large cost more than everything else in `add` together.
   */
  private readonly attributeIndex = new Map<string, Map<IndexValue, Posting>>()
  private attributeEntries = 0
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
          spanIds: undefined,
          indexedResource: undefined,
          postings: [],
          postingSet: undefined,
          removed: false,
          startUs: span.startUs,
          endUs: span.startUs + span.durationUs,
          errorCount: 0,
          services: [],
          bucket: Math.floor(span.startUs / BUCKET_US),
        }
        this.traces.set(span.traceId, entry)
        this.place(entry)
      } else if (hasSpan(entry, span.spanId)) {
        this.duplicates++
        continue
      } else span.traceId = entry.traceId // one copy of the id per trace
      entry.spans.push(span)
      if (entry.spanIds !== undefined) entry.spanIds.add(span.spanId)
      else if (entry.spans.length === SPAN_ID_SET) entry.spanIds = new Set(entry.spans.map((s) => s.spanId))
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
      this.index(span, 1)
      if (!entry.services.includes(span.service)) entry.services.push(span.service)
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

  // hot path: no "kind\0name" string per span; the span keeps the index's copies of its service
  // and name (decoded strings are fresh per span)
  private index(span: StoredSpan, delta: number): void {
    let service = this.operationIndex.get(span.service)
    if (!service) {
      service = { name: span.service, operations: new Map() }
      this.operationIndex.set(span.service, service)
    }
    let operation = service.operations.get(span.name)
    if (!operation) {
      operation = { name: span.name, spans: [0, 0, 0, 0, 0, 0], total: 0 }
      service.operations.set(span.name, operation)
    }
    span.service = service.name
    span.name = operation.name
    const kind = KIND_INDEX[span.kind]
    operation.spans[kind] = operation.spans[kind]! + delta
    operation.total += delta
    if (operation.total > 0) return
    service.operations.delete(span.name)
    if (service.operations.size === 0) this.operationIndex.delete(span.service)
  }

  // hot path: a resource is indexed once per trace while its spans share the object (one export),
  // not once per span (1M spans, 3 resource attributes: ~3M fewer index updates)
  private indexAttributes(entry: TraceEntry, span: StoredSpan): void {
    const attributes = span.attributes
    for (const key in attributes) {
      const value = attributes[key]
      const posting = this.link(key, value, entry)
      // equal values share the index's copy: decoded strings are fresh per span (~15% of the heap)
      if (posting !== undefined && typeof value === 'string') attributes[key] = posting.value
    }
    if (span.resource === entry.indexedResource) return
    entry.indexedResource = span.resource
    for (const key in span.resource) this.link(key, span.resource[key], entry)
  }

  private link(key: string, attribute: AttrValue | undefined, entry: TraceEntry): Posting | undefined {
    const value = indexValue(attribute)
    if (value === undefined) return undefined
    let values = this.attributeIndex.get(key)
    if (values === undefined) {
      values = new Map()
      this.attributeIndex.set(key, values)
    }
    let posting = values.get(value)
    if (posting === undefined) {
      posting = { key, value, entries: [entry], removed: 0 }
      values.set(value, posting)
      this.attributeEntries++
    } else {
      const entries = posting.entries
      if (entries[entries.length - 1] === entry) return posting
      if (entry.postingSet !== undefined ? entry.postingSet.has(posting) : entry.postings.includes(posting))
        return posting
      entries.push(entry)
    }
    entry.postings.push(posting)
    if (entry.postingSet !== undefined) entry.postingSet.add(posting)
    else if (entry.postings.length === POSTING_SET) entry.postingSet = new Set(entry.postings)
    return posting
  }

  /** Takes a removed trace out of its postings: counted now, dropped from the arrays when they are half removed. */
  private unlinkAll(entry: TraceEntry): void {
    entry.removed = true
    for (const posting of entry.postings) {
      posting.removed++
      if (posting.removed === posting.entries.length) {
        const values = this.attributeIndex.get(posting.key)!
        values.delete(posting.value)
        this.attributeEntries--
        if (values.size === 0) this.attributeIndex.delete(posting.key)
      } else if (posting.removed * 2 > posting.entries.length) {
        posting.entries = posting.entries.filter((e) => !e.removed)
        posting.removed = 0
      }
    }
    entry.postings = []
    entry.postingSet = undefined
  }

  /**
   * The traces that can match every filter: the smallest index entry among the filters, or
   * undefined when no filter can be answered from the index (values too long to be indexed).
   */
  private candidates(filters: readonly AttributeFilter[]): Candidates | undefined {
    let best: Candidates | undefined
    for (const f of filters) {
      // keys every object inherits (`constructor`, `__proto__`) match through the prototype: scan
      if (f.text.length > MAX_INDEXED_VALUE || f.key in Object.prototype) continue
      const values = this.attributeIndex.get(f.key)
      // the text may match a string (or an object's JSON), a number and a boolean value
      let found = candidatesOf(values?.get(f.text))
      if (f.number !== undefined) found = union(found, candidatesOf(values?.get(f.number)))
      if (f.bool !== undefined) found = union(found, candidatesOf(values?.get(f.bool)))
      if (found === undefined) return { entries: [], size: 0 }
      if (best === undefined || found.size < best.size) best = found
    }
    return best
  }

  /** Attribute index entries (for tests): how many `key=value` pairs are indexed. */
  attributeIndexSize(): number {
    return this.attributeEntries
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
    // postings may still list the entry for a while: let its spans go now
    entry.spans.length = 0
    entry.spanIds = undefined
  }

  services(): string[] {
    return [...this.operationIndex.keys()].sort()
  }

  operations(service: string, spanKind?: SpanKindName): Operation[] {
    const operations = this.operationIndex.get(service)?.operations
    if (!operations) return []
    const out: Operation[] = []
    for (const operation of operations.values()) {
      operation.spans.forEach((n, i) => {
        const kind = KIND_NAMES[i]!
        if (n > 0 && (spanKind === undefined || kind === spanKind)) out.push({ name: operation.name, spanKind: kind })
      })
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
      if (query.service !== undefined && !entry.services.includes(query.service)) return false
      if (entry.endUs < startUs || entry.startUs > endUs) return false
      // the attribute filters are checked on the spans: the index only chose where to look
      return !needSpanScan || anyMatches(entry.spans, query, startUs, endUs, filters)
    }
    // checking n candidates costs n; the scan stops after about limit × traces / n traces
    const n = candidates?.size ?? Number.POSITIVE_INFINITY
    if (n <= 64 || n * n <= Math.max(1, query.limit) * this.traces.size) {
      // few traces carry the value: check them, then offer the matches in the order the scan
      // below would (newest second first, each second in its own order), so ties come out alike
      const matched = new Set<TraceEntry>()
      for (const entry of candidates!.entries) if (!entry.removed && accepts(entry)) matched.add(entry)
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
        if (filter.service !== undefined && !entry.services.includes(filter.service)) continue
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
        if (!entry.services.includes(query.service)) continue
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
    this.attributeEntries = 0
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

type IndexValue = string | number | boolean

/**
 * An attribute value as the memory index keys it: strings, finite numbers and booleans as they
 * are (`matches` compares them so), null, arrays and objects as their JSON text; undefined when
 * no filter can match it or it is too long to index.
 */
function indexValue(value: AttrValue | undefined): IndexValue | undefined {
  if (typeof value === 'string') return value.length <= MAX_INDEXED_VALUE ? value : undefined
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'boolean') return value
  if (value === undefined) return undefined
  const text = attributeText(value) as string | undefined
  return text !== undefined && text.length <= MAX_INDEXED_VALUE ? text : undefined
}

function candidatesOf(posting: Posting | undefined): Candidates | undefined {
  return posting && { entries: posting.entries, size: posting.entries.length - posting.removed }
}

function union(a: Candidates | undefined, b: Candidates | undefined): Candidates | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  const entries = [...new Set([...a.entries, ...b.entries])].filter((e) => !e.removed)
  return { entries, size: entries.length }
}

function hasSpan(entry: TraceEntry, spanId: string): boolean {
  if (entry.spanIds !== undefined) return entry.spanIds.has(spanId)
  const spans = entry.spans
  for (let i = 0; i < spans.length; i++) if (spans[i]!.spanId === spanId) return true
  return false
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
