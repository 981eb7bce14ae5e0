/**
 * Zipkin v2 JSON exporter (zipkin2-api OpenAPI `Span`, and OTel's "Zipkin exporter" mapping):
 * kinds, `localEndpoint.serviceName`, `remoteEndpoint` from peer/server attributes, tags as
 * strings, events as annotations, microsecond times, 64-bit trace ids kept 64-bit.
 */
import { isIP } from 'node:net'
import { epochMicros } from '../clock.js'
import { diag } from '../diag.js'
import { envNumber, envString } from '../env.js'
import { type Attributes, type AttributeValue, type ReadableSpan, SpanKind, SpanStatusCode } from '../span.js'
import { EXPORT_OK, type ExportResult, type SpanExporter } from './exporter.js'
import { HttpTransport } from './http-transport.js'

export interface ZipkinExporterOptions {
  /** The spans URL (OTEL_EXPORTER_ZIPKIN_ENDPOINT, default http://localhost:9411/api/v2/spans). */
  endpoint?: string
  headers?: Record<string, string>
  /** Longest time for one export, retries included, ms (OTEL_EXPORTER_ZIPKIN_TIMEOUT, default 10000). */
  timeoutMs?: number
  retry?: { initialBackoffMs?: number; maxBackoffMs?: number; maxAttempts?: number }
}

export const DEFAULT_ZIPKIN_ENDPOINT = 'http://localhost:9411/api/v2/spans'

/** A span in the Zipkin v2 model (zipkin2-api `Span`). */
export interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  name: string
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER'
  timestamp: number
  duration: number
  shared?: boolean
  localEndpoint: ZipkinEndpoint
  remoteEndpoint?: ZipkinEndpoint
  annotations?: Array<{ timestamp: number; value: string }>
  tags: Record<string, string>
}

export interface ZipkinEndpoint {
  serviceName?: string
  ipv4?: string
  ipv6?: string
  port?: number
}

const KIND: Record<number, ZipkinSpan['kind']> = {
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
}

/** Converts one span to the Zipkin v2 model. */
export function toZipkinSpan(span: ReadableSpan): ZipkinSpan {
  const sc = span.spanContext()
  const attrs = span.attributes
  // A 64-bit B3 trace id is left-padded to 128 bits on extraction; Zipkin wants it back at 64.
  const traceId = sc.traceId.startsWith('0000000000000000') ? sc.traceId.slice(16) : sc.traceId
  const start = epochMicros(span.startTime)
  const out: ZipkinSpan = {
    traceId,
    id: sc.spanId,
    name: span.name,
    timestamp: start,
    // zipkin2-api: duration is in microseconds and at least 1
    duration: Math.max(1, epochMicros(span.endTime) - start),
    localEndpoint: { serviceName: String(span.resource.attributes['service.name'] ?? 'unknown_service') },
    tags: {},
  }
  const parent = span.parentSpanContext
  if (parent?.spanId) out.parentId = parent.spanId
  const kind = KIND[span.kind]
  if (kind) out.kind = kind
  // B3 single-span RPCs: a server span that reuses its client's span id is "shared".
  if (span.kind === SpanKind.SERVER && parent?.isRemote && parent.spanId === sc.spanId) out.shared = true
  const remote = remoteEndpoint(span.kind, attrs)
  if (remote) out.remoteEndpoint = remote
  if (span.events.length > 0) {
    out.annotations = span.events.map((e) => ({
      timestamp: epochMicros(e.time),
      // OTel Zipkin mapping: the name alone, or {"name":{attributes}} when the event has attributes
      value: Object.keys(e.attributes).length > 0 ? JSON.stringify({ [e.name]: e.attributes }) : e.name,
    }))
  }
  const tags = out.tags
  for (const key in attrs) {
    const value = attrs[key]
    if (value !== undefined && value !== null) tags[key] = tagValue(value)
  }
  if (span.status.code === SpanStatusCode.ERROR) {
    tags['otel.status_code'] = 'ERROR'
    tags.error = span.status.message ?? ''
  } else if (span.status.code === SpanStatusCode.OK) tags['otel.status_code'] = 'OK'
  tags['otel.scope.name'] = span.scope.name
  if (span.scope.version) tags['otel.scope.version'] = span.scope.version
  if (span.droppedAttributesCount) tags['otel.dropped_attributes_count'] = String(span.droppedAttributesCount)
  if (span.droppedEventsCount) tags['otel.dropped_events_count'] = String(span.droppedEventsCount)
  return out
}

function tagValue(value: AttributeValue): string {
  // OTel Zipkin mapping: arrays become JSON arrays, everything else its string form
  return Array.isArray(value) ? JSON.stringify(value) : String(value)
}

function remoteEndpoint(kind: SpanKind, attrs: Attributes): ZipkinEndpoint | undefined {
  const endpoint: ZipkinEndpoint = {}
  const peerService = attrs['peer.service']
  const outgoing = kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER
  const address =
    attrs['network.peer.address'] ??
    (outgoing ? attrs['server.address'] : attrs['client.address']) ??
    attrs['net.peer.ip'] ??
    attrs['net.peer.name']
  const port =
    attrs['network.peer.port'] ?? (outgoing ? attrs['server.port'] : attrs['client.port']) ?? attrs['net.peer.port']
  if (typeof peerService === 'string') endpoint.serviceName = peerService
  else if (outgoing && typeof attrs['server.address'] === 'string' && isIP(attrs['server.address']) === 0) {
    endpoint.serviceName = attrs['server.address'] // a host name: the best name Zipkin has for the peer
  }
  if (typeof address === 'string') {
    const family = isIP(address)
    if (family === 4) endpoint.ipv4 = address
    else if (family === 6) endpoint.ipv6 = address
  }
  const p = typeof port === 'number' ? port : typeof port === 'string' ? Number(port) : Number.NaN
  if (Number.isInteger(p) && p > 0 && p < 65536) endpoint.port = p
  return Object.keys(endpoint).length > 0 ? endpoint : undefined
}

/** Sends spans to a Zipkin server (or anything that speaks its v2 API, e.g. the Threadline viewer on :9411). */
export class ZipkinExporter implements SpanExporter {
  readonly url: URL
  private readonly transport: HttpTransport
  private stopped = false

  constructor(options: ZipkinExporterOptions = {}) {
    const configured = options.endpoint ?? envString('OTEL_EXPORTER_ZIPKIN_ENDPOINT') ?? DEFAULT_ZIPKIN_ENDPOINT
    let url: URL
    try {
      url = new URL(configured)
    } catch {
      diag.warn(
        'TL_ERR_ZIPKIN_ENDPOINT',
        `the Zipkin endpoint "${configured}" is not a valid URL; using ${DEFAULT_ZIPKIN_ENDPOINT}`,
      )
      url = new URL(DEFAULT_ZIPKIN_ENDPOINT)
    }
    this.url = url
    this.transport = new HttpTransport({
      url,
      headers: { ...options.headers, 'content-type': 'application/json' },
      timeoutMs: options.timeoutMs ?? envNumber('OTEL_EXPORTER_ZIPKIN_TIMEOUT') ?? 10_000,
      ...options.retry,
    })
  }

  async export(spans: readonly ReadableSpan[], signal?: AbortSignal): Promise<ExportResult> {
    if (this.stopped) return { ok: false, error: new Error('the Zipkin exporter is shut down'), retryable: false }
    if (spans.length === 0) return EXPORT_OK
    let body: string
    try {
      body = JSON.stringify(spans.map(toZipkinSpan))
    } catch (error) {
      return { ok: false, error: new Error(`could not encode spans for Zipkin: ${String(error)}`), retryable: false }
    }
    return this.transport.send(body, signal)
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    this.transport.close()
  }
}
