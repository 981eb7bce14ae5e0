import { FindingCache, type FindingType, parseFinding, traceFindings } from '../analysis/findings.js'
import { redStatistics } from '../analysis/red.js'
import type { Store, TraceQuery, TraceSummary } from '../store/store.js'
import { BadParameter, parseAttribute, parseDuration, parseKind, parseLimit, parseTime, parseWindow } from './params.js'

export interface ApiAnswer {
  status: number
  body: unknown
}

export interface StatusSource {
  status(): Record<string, unknown>
  /** Finding types per trace, kept between searches with `finding=`. */
  findings?: FindingCache
}

/** With `finding=`, the newest this-many times `limit` matching traces are analysed (at most MAX_SCANNED). */
const FINDING_SCAN_FACTOR = 10
const MAX_SCANNED = 2000
/** `/operations/durations` returns at most this many durations (the newest spans'). */
const MAX_DURATIONS = 10_000

/**
 * Threadline's query API (`/api/v1/…`), documented in the package README. Returns undefined for
 * paths it does not own.
 */
export function queryApi(
  store: Store,
  source: StatusSource,
  path: string,
  params: URLSearchParams,
): ApiAnswer | undefined {
  if (!path.startsWith('/api/v1/')) return undefined
  try {
    return route(store, source, path.slice('/api/v1'.length), params)
  } catch (error) {
    if (error instanceof BadParameter) return { status: 400, body: { error: error.message } }
    throw error
  }
}

function route(store: Store, source: StatusSource, path: string, params: URLSearchParams): ApiAnswer {
  const nowUs = Date.now() * 1000
  if (path === '/status') return ok(source.status())
  if (path === '/services') return ok({ services: store.services() })
  const operations = /^\/services\/([^/]+)\/operations$/.exec(path)
  if (operations) {
    const service = decodeURIComponent(operations[1]!)
    return ok({ service, operations: store.operations(service, parseKind(params.get('spanKind'))) })
  }
  if (path === '/traces') {
    const query = parseTraceQuery(params)
    const finding = parseFinding(params.get('finding'))
    if (!finding) return ok({ traces: store.search(query) })
    return ok({ traces: withFinding(store, source.findings ?? new FindingCache(), query, finding) })
  }
  const trace = /^\/traces\/([0-9a-fA-F]{1,32})(\/findings)?$/.exec(path)
  if (trace) {
    const traceId = trace[1]!.toLowerCase().padStart(32, '0')
    const spans = store.trace(traceId)
    if (!spans) return { status: 404, body: { error: `trace ${traceId} not found` } }
    if (trace[2]) return ok({ traceId, findings: traceFindings(spans) })
    return ok({ traceId, spans })
  }
  if (path === '/dependencies') {
    const { startUs, endUs } = parseWindow(params, nowUs)
    const edges = store.dependencies(startUs, endUs)
    const nodes = new Map<string, 'service' | 'database'>()
    for (const edge of edges) {
      if (!nodes.has(edge.parent)) nodes.set(edge.parent, 'service')
      nodes.set(edge.child, edge.childKind)
    }
    for (const service of store.services()) if (!nodes.has(service)) nodes.set(service, 'service')
    return ok({
      startUs,
      endUs,
      nodes: [...nodes].map(([name, kind]) => ({ name, kind })),
      edges,
    })
  }
  if (path === '/red') {
    const service = params.get('service') || undefined
    const operation = params.get('operation') || undefined
    const { startUs, endUs } = parseWindow(params, nowUs)
    const buckets = parseLimit(params.get('buckets'), 30, 500)
    const rows = store.rows({ service, operation, startUs, endUs })
    return ok({ startUs, endUs, operations: redStatistics(rows, startUs, endUs, buckets) })
  }
  if (path === '/operations/durations') {
    const service = params.get('service')
    const operation = params.get('operation')
    if (!service) throw new BadParameter('service: required')
    if (!operation) throw new BadParameter('operation: required')
    const spanKind = parseKind(params.get('spanKind'))
    const { startUs, endUs } = parseWindow(params, nowUs)
    const limit = parseLimit(params.get('limit'), MAX_DURATIONS, MAX_DURATIONS)
    const threshold = params.get('threshold')
    const thresholdUs = threshold ? parseDuration(threshold, 'threshold') : undefined
    const sample = store.durations({ service, operation, spanKind, startUs, endUs, limit, thresholdUs })
    return ok({
      service,
      operation,
      ...(spanKind ? { spanKind } : {}),
      startUs,
      endUs,
      total: sample.total,
      durationsUs: sample.durationsUs,
      ...(thresholdUs !== undefined ? { thresholdUs, breaches: sample.breaches ?? 0 } : {}),
    })
  }
  return { status: 404, body: { error: `no such endpoint /api/v1${path.slice(0, 100)}` } }
}

/** Search, then keep the traces whose analysis has `finding`, newest first, up to the query's limit. */
function withFinding(store: Store, cache: FindingCache, query: TraceQuery, finding: FindingType): TraceSummary[] {
  const candidates = store.search({ ...query, limit: Math.min(MAX_SCANNED, query.limit * FINDING_SCAN_FACTOR) })
  const out: TraceSummary[] = []
  for (const summary of candidates) {
    if (cache.types(summary.traceId, summary.spanCount, () => store.trace(summary.traceId)).has(finding))
      out.push(summary)
    if (out.length === query.limit) break
  }
  return out
}

export function parseTraceQuery(params: URLSearchParams): TraceQuery {
  const attributes: Record<string, string> = {}
  let hasAttributes = false
  for (const text of params.getAll('attr')) {
    const [key, value] = parseAttribute(text)
    attributes[key] = value
    hasAttributes = true
  }
  const min = params.get('minDuration')
  const max = params.get('maxDuration')
  const start = params.get('start')
  const end = params.get('end')
  const lookback = params.get('lookback')
  const endUs = end ? parseTime(end, 'end') : undefined
  const errors = params.get('error') ?? params.get('errors')
  return {
    service: params.get('service') || undefined,
    operation: params.get('operation') || undefined,
    spanKind: parseKind(params.get('spanKind')),
    attributes: hasAttributes ? attributes : undefined,
    minDurationUs: min ? parseDuration(min, 'minDuration') : undefined,
    maxDurationUs: max ? parseDuration(max, 'maxDuration') : undefined,
    errorsOnly: errors === 'true' || errors === '1',
    startUs: start
      ? parseTime(start, 'start')
      : lookback
        ? (endUs ?? Date.now() * 1000) - parseDuration(lookback, 'lookback')
        : undefined,
    endUs,
    limit: parseLimit(params.get('limit'), 20, 1000),
  }
}

function ok(body: unknown): ApiAnswer {
  return { status: 200, body }
}
