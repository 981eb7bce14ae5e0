/**
 * AWS X-Ray daemon exporter: one segment document per UDP datagram, each after the daemon's
 * header line `{"format":"json","version":1}` (X-Ray developer guide, "Sending segment documents
 * to the X-Ray daemon"). SERVER spans and local roots become segments; other spans are sent as
 * independent subsegments (`type: "subsegment"`, with `parent_id` and `trace_id`).
 */
import dgram from 'node:dgram'
import { isIP } from 'node:net'
import { epochMillis } from '../clock.js'
import { suppressTracing } from '../context.js'
import { diag } from '../diag.js'
import { envString } from '../env.js'
import { type Attributes, type AttributeValue, type ReadableSpan, SpanKind, SpanStatusCode } from '../span.js'
import { EXPORT_OK, type ExportResult, type SpanExporter } from './exporter.js'

export interface XrayExporterOptions {
  /** `host:port` of the daemon's UDP listener (AWS_XRAY_DAEMON_ADDRESS, default 127.0.0.1:2000). */
  daemonAddress?: string
  /** Attributes also recorded as indexed X-Ray annotations (searchable; X-Ray allows 50 per trace). */
  indexedAttributes?: string[]
}

/** The parts of the X-Ray segment document this exporter writes. */
export interface XraySegment {
  name: string
  id: string
  trace_id: string
  start_time: number
  end_time: number
  type?: 'subsegment'
  parent_id?: string
  namespace?: 'remote'
  http?: { request?: Record<string, string | number>; response?: { status?: number } }
  sql?: Record<string, string>
  fault?: boolean
  error?: boolean
  throttle?: boolean
  cause?: { exceptions: XrayException[] }
  annotations?: Record<string, string | number | boolean>
  metadata?: Record<string, Record<string, AttributeValue>>
  service?: { version: string }
}

export interface XrayException {
  id: string
  type?: string
  message?: string
  stack?: Array<{ path?: string; line?: number; label?: string }>
}

export const XRAY_DAEMON_HEADER = '{"format":"json","version":1}\n'
const DEFAULT_ADDRESS = '127.0.0.1:2000'
/** The daemon reads datagrams of at most 64 KiB. */
const MAX_DATAGRAM = 64 * 1024 - 1
const DEFAULT_INDEXED = [
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'db.system.name',
  'db.operation.name',
  'graphql.operation.name',
  'graphql.operation.type',
  'error.type',
]
/** X-Ray rejects trace ids whose time part is older than 30 days. */
const MAX_TRACE_AGE_S = 30 * 24 * 3600

/** `1-{8 hex epoch seconds}-{24 hex}` for an X-Ray-style id, or undefined when the id cannot be one. */
export function toXrayTraceId(traceId: string, nowMs = Date.now()): string | undefined {
  const epoch = Number.parseInt(traceId.slice(0, 8), 16)
  const now = nowMs / 1000
  if (!(epoch > now - MAX_TRACE_AGE_S && epoch < now + 300)) return undefined
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`
}

// X-Ray segment names: letters, numbers, white space and _ . : / % & # = + \ - @ (max 200).
const NAME_DISALLOWED = /[^\p{L}\p{N}\s_.:/%&#=+\\\-@]/gu

function segmentName(name: string): string {
  const clean = name.replace(NAME_DISALLOWED, '_').slice(0, 200)
  return clean || 'unnamed'
}

/** Converts a span to a segment (or independent subsegment) document; undefined if its trace id is not X-Ray's. */
export function toXraySegment(
  span: ReadableSpan,
  indexed: readonly string[] = DEFAULT_INDEXED,
): XraySegment | undefined {
  const sc = span.spanContext()
  const traceId = toXrayTraceId(sc.traceId)
  if (!traceId) return undefined
  const attrs = span.attributes
  const parent = span.parentSpanContext
  const isSegment = span.kind === SpanKind.SERVER || span.kind === SpanKind.CONSUMER || !parent || parent.isRemote
  const service = String(span.resource.attributes['service.name'] ?? 'unknown_service')
  const serverAddress = attrs['server.address']
  const outgoing = span.kind === SpanKind.CLIENT || span.kind === SpanKind.PRODUCER
  const doc: XraySegment = {
    name: segmentName(isSegment ? service : outgoing && typeof serverAddress === 'string' ? serverAddress : span.name),
    id: sc.spanId,
    trace_id: traceId,
    start_time: epochMillis(span.startTime) / 1000,
    end_time: epochMillis(span.endTime) / 1000,
  }
  if (!isSegment) doc.type = 'subsegment'
  if (parent?.spanId) doc.parent_id = parent.spanId
  if (outgoing && !isSegment) doc.namespace = 'remote'
  const version = span.resource.attributes['service.version']
  if (isSegment && typeof version === 'string') doc.service = { version }

  const http = httpFields(attrs)
  if (http) doc.http = http
  const sql = sqlFields(attrs)
  if (sql) doc.sql = sql

  const status = attrs['http.response.status_code']
  if (typeof status === 'number' && status >= 400) {
    if (status === 429) doc.throttle = true
    if (status >= 500) doc.fault = true
    else doc.error = true
  } else if (span.status.code === SpanStatusCode.ERROR) doc.fault = true
  const exceptions = span.events
    .filter((e) => e.name === 'exception')
    .map((e, i) => toException(e.attributes, sc.spanId, i))
  if (exceptions.length > 0) doc.cause = { exceptions }

  const annotations: Record<string, string | number | boolean> = {}
  let annotated = 0
  for (const key of indexed) {
    const value = attrs[key]
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      annotations[key.replace(/[^A-Za-z0-9_]/g, '_')] = value
      annotated++
    }
  }
  if (span.status.code === SpanStatusCode.ERROR && span.status.message) {
    annotations.otel_status_message = span.status.message
    annotated++
  }
  if (annotated > 0) doc.annotations = annotations
  const metadata: Record<string, AttributeValue> = {}
  let hasMetadata = false
  for (const key in attrs) {
    const value = attrs[key]
    if (value === undefined || value === null) continue
    metadata[key] = value
    hasMetadata = true
  }
  if (hasMetadata) doc.metadata = { default: metadata }
  return doc
}

function httpFields(attrs: Attributes): XraySegment['http'] | undefined {
  const method = attrs['http.request.method']
  if (typeof method !== 'string') return undefined
  const request: Record<string, string | number> = { method }
  const url = attrs['url.full'] ?? joinUrl(attrs)
  if (typeof url === 'string') request.url = url
  const client = attrs['client.address']
  if (typeof client === 'string') request.client_ip = client
  const agent = attrs['user_agent.original']
  if (typeof agent === 'string') request.user_agent = agent
  const out: NonNullable<XraySegment['http']> = { request }
  const status = attrs['http.response.status_code']
  if (typeof status === 'number') out.response = { status }
  return out
}

function joinUrl(attrs: Attributes): string | undefined {
  const scheme = attrs['url.scheme']
  const host = attrs['server.address']
  const path = attrs['url.path']
  if (typeof path !== 'string' || typeof host !== 'string') return undefined
  const port = attrs['server.port']
  return `${typeof scheme === 'string' ? scheme : 'http'}://${host}${typeof port === 'number' ? `:${port}` : ''}${path}`
}

function sqlFields(attrs: Attributes): Record<string, string> | undefined {
  const system = attrs['db.system.name']
  if (typeof system !== 'string') return undefined
  const sql: Record<string, string> = { database_type: system }
  const query = attrs['db.query.text']
  if (typeof query === 'string') sql.sanitized_query = query // core already replaces literals by ?
  const host = attrs['server.address']
  const db = attrs['db.namespace']
  if (typeof host === 'string') {
    const port = attrs['server.port']
    sql.url = `${host}${typeof port === 'number' ? `:${port}` : ''}${typeof db === 'string' ? `/${db}` : ''}`
  }
  return sql
}

const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+)(?::\d+)?\)?$/

function toException(attrs: Attributes, spanId: string, index: number): XrayException {
  // exception ids: 16 hex, unique within the segment
  const out: XrayException = { id: `${spanId.slice(0, 14)}${index.toString(16).padStart(2, '0')}` }
  const type = attrs['exception.type']
  const message = attrs['exception.message']
  const stack = attrs['exception.stacktrace']
  if (typeof type === 'string') out.type = type
  if (typeof message === 'string') out.message = message
  if (typeof stack === 'string') {
    const frames: NonNullable<XrayException['stack']> = []
    for (const line of stack.split('\n')) {
      const m = FRAME.exec(line)
      if (!m) continue
      const frame: { path?: string; line?: number; label?: string } = { path: m[2] as string, line: Number(m[3]) }
      if (m[1]) frame.label = m[1]
      frames.push(frame)
      if (frames.length >= 32) break
    }
    if (frames.length > 0) out.stack = frames
  }
  return out
}

/** Parses AWS_XRAY_DAEMON_ADDRESS: `host:port`, or `tcp:host:port udp:host:port`. */
export function parseDaemonAddress(value: string | undefined): { host: string; port: number } | undefined {
  if (!value) return undefined
  const parts = value.trim().split(/\s+/)
  const udp = parts.find((p) => p.startsWith('udp:'))?.slice(4) ?? (parts.length === 1 ? parts[0] : undefined)
  if (!udp) return undefined
  const colon = udp.lastIndexOf(':')
  const host = udp.slice(0, colon).replace(/^\[|\]$/g, '')
  const port = Number(udp.slice(colon + 1))
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined
  return { host, port }
}

/** Sends spans to the X-Ray daemon (or the CloudWatch agent) over UDP. Needs X-Ray trace ids. */
export class XrayExporter implements SpanExporter {
  readonly host: string
  readonly port: number
  private readonly indexed: readonly string[]
  private socket: dgram.Socket | undefined
  private stopped = false

  constructor(options: XrayExporterOptions = {}) {
    const configured = options.daemonAddress ?? envString('AWS_XRAY_DAEMON_ADDRESS')
    let address = parseDaemonAddress(configured ?? DEFAULT_ADDRESS)
    if (!address) {
      diag.warn(
        'TL_ERR_XRAY_DAEMON_ADDRESS',
        `the X-Ray daemon address "${configured}" is not "host:port" or "tcp:host:port udp:host:port"; using ${DEFAULT_ADDRESS}`,
      )
      address = parseDaemonAddress(DEFAULT_ADDRESS) as { host: string; port: number }
    }
    this.host = address.host
    this.port = address.port
    this.indexed = [...DEFAULT_INDEXED, ...(options.indexedAttributes ?? [])]
  }

  async export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    if (this.stopped) return { ok: false, error: new Error('the X-Ray exporter is shut down'), retryable: false }
    const datagrams: Buffer[] = []
    let foreign: string | undefined
    let tooLarge = 0
    for (const span of spans) {
      const doc = toXraySegment(span, this.indexed)
      if (!doc) {
        foreign ??= span.spanContext().traceId
        continue
      }
      let datagram = Buffer.from(XRAY_DAEMON_HEADER + JSON.stringify(doc))
      if (datagram.length > MAX_DATAGRAM) {
        // metadata and stacks are what grows; the span itself is worth keeping
        doc.metadata = undefined
        for (const e of doc.cause?.exceptions ?? []) e.stack = undefined
        datagram = Buffer.from(XRAY_DAEMON_HEADER + JSON.stringify(doc))
      }
      if (datagram.length > MAX_DATAGRAM) tooLarge++
      else datagrams.push(datagram)
    }
    if (foreign) {
      diag.warn(
        'TL_ERR_XRAY_TRACE_ID',
        `trace id ${foreign} is not an X-Ray trace id (its first 8 hex digits are not a recent epoch second), so X-Ray would reject it; those spans were not sent. Start tracing with init({ idGenerator: xrayIdGenerator, propagators: ['xray', 'tracecontext'] })`,
      )
    }
    if (tooLarge > 0) {
      diag.warn(
        'TL_ERR_XRAY_SEGMENT_SIZE',
        `${tooLarge} segment(s) exceeded the daemon's 64 KiB datagram even without metadata and stacks; not sent`,
      )
    }
    if (datagrams.length === 0) {
      return spans.length === 0
        ? EXPORT_OK
        : {
            ok: false,
            error: new Error(
              foreign ? `no span had an X-Ray trace id (e.g. ${foreign})` : 'every segment exceeded 64 KiB',
            ),
            retryable: false,
          }
    }
    try {
      await suppressTracing(() => this.send(datagrams))
      return EXPORT_OK
    } catch (error) {
      return {
        ok: false,
        error: new Error(`sending to the X-Ray daemon at ${this.host}:${this.port} failed: ${String(error)}`),
        retryable: true,
      }
    }
  }

  private send(datagrams: Buffer[]): Promise<void> {
    if (!this.socket) {
      this.socket = dgram.createSocket(isIP(this.host) === 6 ? 'udp6' : 'udp4')
      this.socket.on('error', () => {}) // reported per send
      this.socket.unref()
    }
    const socket = this.socket
    return Promise.all(
      datagrams.map(
        (d) =>
          new Promise<void>((resolve, reject) => {
            socket.send(d, this.port, this.host, (error) => (error ? reject(error) : resolve()))
          }),
      ),
    ).then(() => {})
  }

  async shutdown(): Promise<void> {
    this.stopped = true
    this.socket?.close()
    this.socket = undefined
  }
}
