import type { StoredSpanLike } from '../analysis/index.js'

/** The viewer's query API (`/api/v1`, served by @threadline/viewer on the same origin). */

export interface ApiSpan extends StoredSpanLike {
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string }
  attributes: Record<string, unknown>
  events: { name: string; timeUs: number; attributes: Record<string, unknown> }[]
  links: { traceId: string; spanId: string; traceState?: string; attributes: Record<string, unknown> }[]
  resource: Record<string, unknown>
  scope?: { name: string; version?: string }
  droppedAttributesCount?: number
  droppedEventsCount?: number
  droppedLinksCount?: number
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

export interface DependencyEdge {
  parent: string
  child: string
  childKind: 'service' | 'database'
  callCount: number
  errorCount: number
  /** Not (yet) returned by the API; shown when present. */
  p95Us?: number
}

export interface RedFigures {
  count: number
  errorCount: number
  rate: number
  errorRate: number
  p50: number | null
  p95: number | null
  p99: number | null
}

export interface OperationRed {
  service: string
  operation: string
  spanKind: string
  total: RedFigures
  buckets: (RedFigures & { startUs: number; endUs: number })[]
}

/** `/api/v1/operations/durations`: span durations of one operation (newest first, at most `limit`). */
export interface OperationDurations {
  service: string
  operation: string
  spanKind?: string
  startUs: number
  endUs: number
  /** Matching spans in the window; `durationsUs` holds the newest of them. */
  total: number
  durationsUs: number[]
  /** With `threshold=`: the threshold in µs and how many of all `total` spans took longer. */
  thresholdUs?: number
  breaches?: number
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { signal, headers: { accept: 'application/json' } })
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`
    try {
      const body = (await response.json()) as { error?: string }
      if (body.error) message = body.error
    } catch {}
    throw new ApiError(response.status, message)
  }
  return (await response.json()) as T
}

/** An SLO the viewer was started with (`--slo "GET /orders/:id=200ms@99%"`), if its status lists them. */
export interface ConfiguredSlo {
  service?: string
  operation: string
  thresholdUs: number
  target: number
}

export const api = {
  status: (signal?: AbortSignal) => get<{ slos?: ConfiguredSlo[] } & Record<string, unknown>>('/api/v1/status', signal),
  services: (signal?: AbortSignal) => get<{ services: string[] }>('/api/v1/services', signal).then((r) => r.services),
  operations: (service: string, signal?: AbortSignal) =>
    get<{ operations: { name: string; spanKind: string }[] }>(
      `/api/v1/services/${encodeURIComponent(service)}/operations`,
      signal,
    ).then((r) => r.operations),
  search: (query: string, signal?: AbortSignal) =>
    get<{ traces: TraceSummary[] }>(`/api/v1/traces${query}`, signal).then((r) => r.traces),
  trace: (traceId: string, signal?: AbortSignal) =>
    get<{ traceId: string; spans: ApiSpan[] }>(`/api/v1/traces/${encodeURIComponent(traceId)}`, signal).then(
      (r) => r.spans,
    ),
  dependencies: (query: string, signal?: AbortSignal) =>
    get<{
      startUs: number
      endUs: number
      nodes: { name: string; kind: 'service' | 'database' }[]
      edges: DependencyEdge[]
    }>(`/api/v1/dependencies${query}`, signal),
  durations: (query: string, signal?: AbortSignal) =>
    get<OperationDurations>(`/api/v1/operations/durations${query}`, signal),
  red: (query: string, signal?: AbortSignal) =>
    get<{ startUs: number; endUs: number; operations: OperationRed[] }>(`/api/v1/red${query}`, signal),
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await work(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
