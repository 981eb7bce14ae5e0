import type { SpanKindName, SpanRow, StoredSpan } from '../model.js'

/** Trace search; every span criterion must hold for one and the same span (Jaeger's rule). */
export interface TraceQuery {
  service?: string | undefined
  operation?: string | undefined
  spanKind?: SpanKindName | undefined
  /** `key=value` filters matched, as text, against span then resource attributes. */
  attributes?: Record<string, string> | undefined
  minDurationUs?: number | undefined
  maxDurationUs?: number | undefined
  /** Only traces that contain at least one span with status ERROR (anywhere in the trace). */
  errorsOnly?: boolean | undefined
  /** The matching span started in [startUs, endUs]. */
  startUs?: number | undefined
  endUs?: number | undefined
  limit: number
}

export interface TraceSummary {
  traceId: string
  rootService: string
  rootName: string
  startUs: number
  durationUs: number
  spanCount: number
  errorCount: number
  services: { name: string; spanCount: number }[]
}

export interface Operation {
  name: string
  spanKind: SpanKindName
}

export interface DependencyEdge {
  parent: string
  child: string
  /** `database` when the child is a `db.system.name` of a client span rather than a service. */
  childKind: 'service' | 'database'
  callCount: number
  errorCount: number
  /** errorCount / callCount. */
  errorRate: number
  /** 95th percentile (nearest rank) of the called spans' durations, in µs. */
  p95Us: number
}

export interface StoreStats {
  spans: number
  traces: number
  /** Spans removed by the span bound (memory) or by retention. */
  evictedSpans: number
  duplicateSpans: number
}

export interface RowFilter {
  service?: string | undefined
  operation?: string | undefined
  startUs: number
  endUs: number
}

/** The spans of one operation (service + span name, optionally one span kind) in a window, by span start time. */
export interface DurationQuery {
  service: string
  operation: string
  spanKind?: SpanKindName | undefined
  startUs: number
  endUs: number
  /** At most this many durations are returned: those of the newest spans (by start). */
  limit: number
  /** When given, spans longer than this are counted as `breaches` (over all matching spans, not only the sample). */
  thresholdUs?: number | undefined
}

export interface DurationSample {
  /** Matching spans in the window. */
  total: number
  /** Durations (µs) of the newest `limit` matching spans, newest first. */
  durationsUs: number[]
  /** Matching spans with a duration over `thresholdUs`; only when a threshold was asked for. */
  breaches?: number
}

/** A trace store. Reads are synchronous; `add` resolves once the spans are stored (durably for SQLite). */
export interface Store {
  readonly kind: 'memory' | 'sqlite'
  /** Stores spans, ignoring ones already stored (same trace and span id); resolves to the number added. */
  add(spans: StoredSpan[]): Promise<number>
  services(): string[]
  operations(service: string, spanKind?: SpanKindName): Operation[]
  search(query: TraceQuery): TraceSummary[]
  trace(traceId: string): StoredSpan[] | undefined
  dependencies(startUs: number, endUs: number): DependencyEdge[]
  /** Span rows for statistics, by span start time. */
  rows(filter: RowFilter): SpanRow[]
  /** Span durations of one operation: a bounded sample of the newest, the total count and, optionally, breaches. */
  durations(query: DurationQuery): DurationSample
  /** Removes whole traces that ended before `cutoffUs`; returns the spans removed. */
  prune(cutoffUs: number): number
  stats(): StoreStats
  close(): Promise<void>
}

/** Keeps the `limit` newest summaries (by start) while scanning: O(n log limit), no full sort. */
export class NewestFirst<T extends { startUs: number }> {
  readonly items: T[] = []
  constructor(private readonly limit: number) {}

  /** True when an item starting at `startUs` could still make the list. */
  wants(startUs: number): boolean {
    return this.items.length < this.limit || startUs > this.items[this.items.length - 1]!.startUs
  }

  offer(item: T): void {
    if (!this.wants(item.startUs)) return
    let i = this.items.length
    while (i > 0 && this.items[i - 1]!.startUs < item.startUs) i--
    this.items.splice(i, 0, item)
    if (this.items.length > this.limit) this.items.pop()
  }
}

/** Attribute value as search text: strings as is, everything else as JSON. */
export function attributeText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}
