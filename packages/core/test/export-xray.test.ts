/**
 * X-Ray daemon documents checked against the X-Ray segment document schema (AWS X-Ray developer
 * guide, "AWS X-Ray segment documents"): every datagram is the header line
 * `{"format":"json","version":1}` then one JSON document; required fields name (≤200 chars of
 * letters, numbers, spaces and _.:/%&#=+\-@), id (16 hex), trace_id (`1-{8 hex}-{24 hex}`),
 * start_time and end_time (epoch seconds); independent subsegments carry type "subsegment",
 * parent_id and trace_id; annotation keys are alphanumeric/underscore with string, number or
 * boolean values; http.request/response, sql, fault/error/throttle and cause.exceptions shapes.
 */
import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { setDiagLogger } from '../src/diag.js'
import { parseDaemonAddress, toXrayTraceId, XrayExporter, type XraySegment } from '../src/export/xray.js'
import { spanLimitsFromEnv } from '../src/limits.js'
import { RecordingSpan, SpanKind, SpanStatusCode } from '../src/span.js'
import { resource, sampleSpans } from './export-sample-spans.js'

const NAME = /^[\p{L}\p{N}\s_.:/%&#=+\\\-@]{1,200}$/u

function schemaProblems(doc: Record<string, unknown>): string[] {
  const p: string[] = []
  if (typeof doc.name !== 'string' || !NAME.test(doc.name)) p.push('name')
  if (!/^[0-9a-f]{16}$/.test(String(doc.id))) p.push('id')
  if (!/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(String(doc.trace_id))) p.push('trace_id')
  if (typeof doc.start_time !== 'number' || typeof doc.end_time !== 'number' || doc.end_time < doc.start_time)
    p.push('times')
  if (doc.type !== undefined && (doc.type !== 'subsegment' || !/^[0-9a-f]{16}$/.test(String(doc.parent_id))))
    p.push('subsegment')
  for (const [k, v] of Object.entries((doc.annotations as Record<string, unknown>) ?? {})) {
    if (!/^[A-Za-z0-9_]+$/.test(k) || !['string', 'number', 'boolean'].includes(typeof v)) p.push(`annotation ${k}`)
  }
  for (const flag of ['fault', 'error', 'throttle'])
    if (doc[flag] !== undefined && typeof doc[flag] !== 'boolean') p.push(flag)
  return p
}

const owner = (scope = { name: '@threadline/express' }) => ({
  limits: spanLimitsFromEnv(),
  resource,
  scope,
  onEnd() {},
})
const epochHex = () =>
  Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')

function xraySpans() {
  const traceId = `${epochHex()}a3ce929d0e0e4736a3ce929d`
  const server = new RecordingSpan(
    owner(),
    { traceId, spanId: 'a2fb4a1d1a96d312', traceFlags: 1 },
    'GET /users/:id',
    SpanKind.SERVER,
    { traceId, spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true },
    1,
  )
  server.setAttributes({
    'http.request.method': 'GET',
    'http.route': '/users/:id',
    'http.response.status_code': 503,
    'url.full': 'http://api/users/1',
    'client.address': '10.1.2.3',
    'user_agent.original': 'curl/8.5.0',
  })
  server.recordException(new TypeError('boom'))
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'Service Unavailable' })
  const query = new RecordingSpan(
    owner({ name: '@threadline/pg' }),
    { traceId, spanId: '53995c3f42cd8ad8', traceFlags: 1 },
    'SELECT users',
    SpanKind.CLIENT,
    server.spanContext(),
    2,
  )
  query.setAttributes({
    'db.system.name': 'postgresql',
    'db.query.text': 'SELECT * FROM users WHERE id = ?',
    'server.address': 'db',
    'server.port': 5432,
    'db.namespace': 'app',
  })
  query.end()
  const call = new RecordingSpan(
    owner(),
    { traceId, spanId: '1111111111111111', traceFlags: 1 },
    'GET',
    SpanKind.CLIENT,
    server.spanContext(),
    3,
  )
  call.setAttributes({ 'http.request.method': 'GET', 'server.address': 'catalog', 'http.response.status_code': 429 })
  call.end()
  server.end()
  return [server, query, call]
}

const sockets: dgram.Socket[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.close()
  setDiagLogger(undefined)
})

async function daemon(): Promise<{ address: string; datagrams: string[] }> {
  const datagrams: string[] = []
  const socket = dgram.createSocket('udp4')
  sockets.push(socket)
  socket.on('message', (m) => datagrams.push(m.toString('utf8')))
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
  return { address: `127.0.0.1:${(socket.address() as AddressInfo).port}`, datagrams }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('X-Ray daemon exporter', () => {
  it('sends one header line plus one schema-valid document per span over UDP', async () => {
    const { address, datagrams } = await daemon()
    const exporter = new XrayExporter({ daemonAddress: address })
    expect(await exporter.export(xraySpans())).toEqual({ ok: true })
    await until(() => datagrams.length === 3)
    await exporter.shutdown()
    expect(datagrams).toHaveLength(3)
    const docs = datagrams.map((d) => {
      expect(d.startsWith('{"format":"json","version":1}\n')).toBe(true)
      return JSON.parse(d.slice(d.indexOf('\n') + 1)) as XraySegment
    })
    for (const doc of docs) expect(schemaProblems(doc as unknown as Record<string, unknown>)).toEqual([])
    const segment = docs.find((d) => d.id === 'a2fb4a1d1a96d312')!
    expect(segment).toMatchObject({
      name: 'checkout',
      parent_id: '00f067aa0ba902b7',
      fault: true,
      http: {
        request: { method: 'GET', url: 'http://api/users/1', client_ip: '10.1.2.3', user_agent: 'curl/8.5.0' },
        response: { status: 503 },
      },
    })
    expect(segment.type).toBeUndefined()
    expect(segment.annotations).toMatchObject({ http_route: '/users/:id', http_response_status_code: 503 })
    expect(segment.cause?.exceptions[0]).toMatchObject({ type: 'TypeError', message: 'boom' })
    expect(segment.cause?.exceptions[0]?.stack?.[0]?.line).toBeGreaterThan(0)
    expect(segment.metadata?.default?.['http.route']).toBe('/users/:id')
    const sql = docs.find((d) => d.id === '53995c3f42cd8ad8')!
    expect(sql).toMatchObject({
      type: 'subsegment',
      parent_id: 'a2fb4a1d1a96d312',
      namespace: 'remote',
      name: 'db',
      sql: { database_type: 'postgresql', sanitized_query: 'SELECT * FROM users WHERE id = ?', url: 'db:5432/app' },
    })
    const throttled = docs.find((d) => d.id === '1111111111111111')!
    expect(throttled).toMatchObject({ name: 'catalog', throttle: true, error: true })
    expect(throttled.fault).toBeUndefined()
  })

  it('refuses non-X-Ray trace ids with a clear TL_ERR_XRAY_TRACE_ID warning', async () => {
    const warnings: string[] = []
    setDiagLogger((_level, code, message) => warnings.push(`${code}: ${message}`))
    const { address, datagrams } = await daemon()
    const exporter = new XrayExporter({ daemonAddress: address })
    const result = await exporter.export(sampleSpans()) // W3C random ids: first 8 hex are not an epoch
    await exporter.shutdown()
    expect(result).toMatchObject({ ok: false, retryable: false })
    expect(datagrams).toHaveLength(0)
    expect(warnings.join('\n')).toMatch(
      /TL_ERR_XRAY_TRACE_ID: trace id 4bf92f35.* is not an X-Ray trace id.*xrayIdGenerator/,
    )
  })

  it('converts ids and parses AWS_XRAY_DAEMON_ADDRESS forms', () => {
    const hex = epochHex()
    expect(toXrayTraceId(`${hex}${'ab'.repeat(12)}`)).toBe(`1-${hex}-${'ab'.repeat(12)}`)
    expect(toXrayTraceId(`ffffffff${'ab'.repeat(12)}`)).toBeUndefined()
    expect(parseDaemonAddress('127.0.0.1:2000')).toEqual({ host: '127.0.0.1', port: 2000 })
    expect(parseDaemonAddress('tcp:10.0.0.1:2000 udp:10.0.0.2:2001')).toEqual({ host: '10.0.0.2', port: 2001 })
    expect(parseDaemonAddress('[::1]:2000')).toEqual({ host: '::1', port: 2000 })
    expect(parseDaemonAddress('nonsense')).toBeUndefined()
  })
})
