import type { Attrs, AttrValue, StoredSpan } from '../model.js'
import type { Store, TraceQuery } from '../store/store.js'
import { BadParameter, parseDuration, parseLimit } from './params.js'
import type { ApiAnswer } from './query.js'

/**
 * The read endpoints of jaeger-query's HTTP JSON API (what the Jaeger UI and Grafana's Jaeger
 * data source call): `/api/services`, `/api/services/{s}/operations`, `/api/operations`,
 * `/api/traces`, `/api/traces/{id}`, `/api/dependencies`. Times are microseconds, except
 * `/api/dependencies`'s `endTs`/`lookback` in milliseconds, as in Jaeger.
 */
export function jaegerApi(store: Store, path: string, params: URLSearchParams): ApiAnswer | undefined {
  if (!path.startsWith('/api/') || path.startsWith('/api/v1/')) return undefined
  try {
    return route(store, path, params)
  } catch (error) {
    if (error instanceof BadParameter) return fail(400, error.message)
    throw error
  }
}

function route(store: Store, path: string, params: URLSearchParams): ApiAnswer | undefined {
  if (path === '/api/services') return data(store.services())
  const operations = /^\/api\/services\/([^/]+)\/operations$/.exec(path)
  if (operations) {
    const names = new Set(store.operations(decodeURIComponent(operations[1]!)).map((o) => o.name))
    return data([...names].sort())
  }
  if (path === '/api/operations') {
    const service = params.get('service')
    if (!service) return fail(400, 'parameter "service" is required')
    const kind = params.get('spanKind') || undefined
    const list = store.operations(service).filter((o) => kind === undefined || o.spanKind === kind)
    return data(list.map((o) => ({ name: o.name, spanKind: o.spanKind })))
  }
  if (path === '/api/traces') {
    const ids = params.getAll('traceID')
    if (ids.length) {
      const traces = []
      for (const id of ids) {
        const spans = store.trace(normalizeId(id))
        if (spans) traces.push(toJaegerTrace(normalizeId(id), spans))
      }
      return data(traces)
    }
    const query = jaegerQuery(params)
    const summaries = store.search(query)
    return data(summaries.map((s) => toJaegerTrace(s.traceId, store.trace(s.traceId) ?? [])))
  }
  const trace = /^\/api\/traces\/([0-9a-fA-F]{1,32})$/.exec(path)
  if (trace) {
    const traceId = normalizeId(trace[1]!)
    const spans = store.trace(traceId)
    if (!spans)
      return {
        status: 404,
        body: { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: 404, msg: 'trace not found' }] },
      }
    return data([toJaegerTrace(traceId, spans)])
  }
  if (path === '/api/dependencies') {
    const endMs = Number(params.get('endTs') ?? Date.now())
    const lookbackMs = Number(params.get('lookback') ?? 86_400_000)
    if (!Number.isFinite(endMs) || !Number.isFinite(lookbackMs))
      throw new BadParameter('endTs and lookback are milliseconds')
    const edges = store.dependencies((endMs - lookbackMs) * 1000, endMs * 1000)
    return data(edges.map((e) => ({ parent: e.parent, child: e.child, callCount: e.callCount })))
  }
  return undefined
}

function jaegerQuery(params: URLSearchParams): TraceQuery {
  const service = params.get('service')
  if (!service) throw new BadParameter('parameter "service" is required')
  const attributes: Record<string, string> = {}
  const tags = params.get('tags')
  if (tags) {
    let parsed: unknown
    try {
      parsed = JSON.parse(tags)
    } catch {
      throw new BadParameter('tags: expected a JSON object of key/value strings')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new BadParameter('tags: expected a JSON object')
    for (const [k, v] of Object.entries(parsed)) attributes[k] = String(v)
  }
  for (const tag of params.getAll('tag')) {
    const cut = tag.indexOf(':')
    if (cut <= 0) throw new BadParameter(`tag: expected key:value, got "${tag.slice(0, 80)}"`)
    attributes[tag.slice(0, cut)] = tag.slice(cut + 1)
  }
  const errorTag = attributes['error']
  if (errorTag !== undefined) delete attributes['error']
  const start = params.get('start')
  const end = params.get('end')
  const lookback = params.get('lookback')
  const endUs = end ? Number(end) : Date.now() * 1000
  let startUs = start ? Number(start) : undefined
  if (startUs === undefined && lookback && lookback !== 'custom') startUs = endUs - parseDuration(lookback, 'lookback')
  if (!Number.isFinite(endUs) || (startUs !== undefined && !Number.isFinite(startUs))) {
    throw new BadParameter('start and end are microseconds since the epoch')
  }
  const min = params.get('minDuration')
  const max = params.get('maxDuration')
  const operation = params.get('operation')
  return {
    service,
    operation: operation && operation !== 'all' ? operation : undefined,
    attributes: Object.keys(attributes).length ? attributes : undefined,
    errorsOnly: errorTag === 'true',
    minDurationUs: min ? parseDuration(min, 'minDuration') : undefined,
    maxDurationUs: max ? parseDuration(max, 'maxDuration') : undefined,
    startUs,
    endUs: end ? endUs : undefined,
    limit: parseLimit(params.get('limit'), 20, 1500),
  }
}

interface JaegerTag {
  key: string
  type: 'string' | 'bool' | 'int64' | 'float64'
  value: string | number | boolean
}

export interface JaegerTrace {
  traceID: string
  spans: unknown[]
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>
  warnings: null
}

export function toJaegerTrace(traceId: string, spans: readonly StoredSpan[]): JaegerTrace {
  const processes: JaegerTrace['processes'] = {}
  const processIds = new Map<string, string>()
  const out = spans.map((span) => {
    // one process per distinct resource (spans of separate exports carry equal, not identical, objects)
    const key = JSON.stringify(span.resource)
    let processID = processIds.get(key)
    if (!processID) {
      processID = `p${processIds.size + 1}`
      processIds.set(key, processID)
      processes[processID] = {
        serviceName: span.service,
        tags: toTags(span.resource).filter((t) => t.key !== 'service.name'),
      }
    }
    const tags = toTags(span.attributes)
    if (span.kind !== 'unspecified' && span.kind !== 'internal')
      tags.push({ key: 'span.kind', type: 'string', value: span.kind })
    if (span.error) tags.push({ key: 'error', type: 'bool', value: true })
    if (span.status.code !== 'UNSET') tags.push({ key: 'otel.status_code', type: 'string', value: span.status.code })
    if (span.status.message) tags.push({ key: 'otel.status_description', type: 'string', value: span.status.message })
    if (span.scope?.name) tags.push({ key: 'otel.scope.name', type: 'string', value: span.scope.name })
    const references = span.parentSpanId ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: span.parentSpanId }] : []
    for (const link of span.links)
      references.push({ refType: 'FOLLOWS_FROM', traceID: link.traceId, spanID: link.spanId })
    return {
      traceID: traceId,
      spanID: span.spanId,
      flags: 1,
      operationName: span.name,
      references,
      startTime: Math.round(span.startUs),
      duration: Math.round(span.durationUs),
      tags,
      logs: span.events.map((e) => ({
        timestamp: Math.round(e.timeUs),
        fields: [{ key: 'event', type: 'string', value: e.name }, ...toTags(e.attributes)],
      })),
      processID,
      warnings: null,
    }
  })
  return { traceID: traceId, spans: out, processes, warnings: null }
}

function toTags(attrs: Attrs): JaegerTag[] {
  const tags: JaegerTag[] = []
  for (const key in attrs) tags.push(toTag(key, attrs[key]!))
  return tags
}

function toTag(key: string, value: AttrValue): JaegerTag {
  if (typeof value === 'boolean') return { key, type: 'bool', value }
  if (typeof value === 'number') return { key, type: Number.isInteger(value) ? 'int64' : 'float64', value }
  if (typeof value === 'string') return { key, type: 'string', value }
  return { key, type: 'string', value: JSON.stringify(value) }
}

function normalizeId(id: string): string {
  return id.toLowerCase().padStart(32, '0')
}

function data(items: unknown): ApiAnswer {
  const list = Array.isArray(items) ? items : []
  return { status: 200, body: { data: items, total: list.length, limit: 0, offset: 0, errors: null } }
}

function fail(status: number, msg: string): ApiAnswer {
  return { status, body: { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg }] } }
}
