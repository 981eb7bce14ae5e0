/**
 * Zipkin v2 JSON checked against the zipkin2-api OpenAPI `Span` definition (openzipkin/zipkin-api
 * zipkin2-api.yaml): traceId 16 or 32 lower-hex, id/parentId 16 lower-hex, kind one of
 * CLIENT/SERVER/PRODUCER/CONSUMER (absent for local spans), timestamp and duration integer
 * epoch microseconds (duration >= 1), Endpoint {serviceName, ipv4, ipv6, port}, annotations
 * {timestamp, value}, tags a string→string map; POSTed as a JSON array to /api/v2/spans.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { epochMicros } from '../src/clock.js'
import { toZipkinSpan, ZipkinExporter, type ZipkinSpan } from '../src/export/zipkin.js'
import { spanLimitsFromEnv } from '../src/limits.js'
import { RecordingSpan, SpanKind } from '../src/span.js'
import { resource, sampleSpans } from './export-sample-spans.js'

const HEX16 = /^[0-9a-f]{16}$/
const HEX16_OR_32 = /^([0-9a-f]{16}|[0-9a-f]{32})$/
const SPAN_KEYS = new Set([
  'traceId',
  'name',
  'parentId',
  'id',
  'kind',
  'timestamp',
  'duration',
  'debug',
  'shared',
  'localEndpoint',
  'remoteEndpoint',
  'annotations',
  'tags',
])
const ENDPOINT_KEYS = new Set(['serviceName', 'ipv4', 'ipv6', 'port'])

/** Checks one span against the zipkin2-api Span schema facts above; returns the problems. */
function schemaProblems(span: Record<string, unknown>): string[] {
  const problems: string[] = []
  for (const key of Object.keys(span)) if (!SPAN_KEYS.has(key)) problems.push(`unknown field ${key}`)
  if (!HEX16_OR_32.test(String(span.traceId))) problems.push('traceId')
  if (!HEX16.test(String(span.id))) problems.push('id')
  if (span.parentId !== undefined && !HEX16.test(String(span.parentId))) problems.push('parentId')
  if (span.kind !== undefined && !['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'].includes(String(span.kind)))
    problems.push('kind')
  if (!Number.isSafeInteger(span.timestamp)) problems.push('timestamp')
  if (!Number.isSafeInteger(span.duration) || (span.duration as number) < 1) problems.push('duration')
  for (const name of ['localEndpoint', 'remoteEndpoint']) {
    const e = span[name] as Record<string, unknown> | undefined
    if (e === undefined) continue
    for (const key of Object.keys(e)) if (!ENDPOINT_KEYS.has(key)) problems.push(`${name}.${key}`)
    if (e.port !== undefined && !Number.isInteger(e.port)) problems.push(`${name}.port`)
  }
  for (const a of (span.annotations as Array<Record<string, unknown>>) ?? []) {
    if (!Number.isSafeInteger(a.timestamp) || typeof a.value !== 'string') problems.push('annotation')
  }
  for (const [k, v] of Object.entries((span.tags as Record<string, unknown>) ?? {}))
    if (typeof v !== 'string') problems.push(`tag ${k}`)
  return problems
}

const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

describe('Zipkin v2 exporter', () => {
  it('produces spans that satisfy the zipkin2-api Span schema', () => {
    for (const span of sampleSpans())
      expect(schemaProblems(toZipkinSpan(span) as unknown as Record<string, unknown>)).toEqual([])
  })

  it('maps kind, ids, times, service name, tags, status and events as the OTel Zipkin mapping says', () => {
    const [server, query, internal] = sampleSpans()
    const z = toZipkinSpan(server!)
    expect(z).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      id: 'a2fb4a1d1a96d312',
      parentId: '00f067aa0ba902b7',
      kind: 'SERVER',
      name: 'GET /users/:id',
      timestamp: epochMicros(server!.startTime),
      localEndpoint: { serviceName: 'checkout' },
    })
    expect(z.duration).toBe(epochMicros(server!.endTime) - epochMicros(server!.startTime))
    expect(z.tags['http.response.status_code']).toBe('500') // tags are strings
    expect(z.tags['sample.ratio']).toBe('0.25')
    expect(z.tags['otel.status_code']).toBe('ERROR')
    expect(z.tags.error).toBe('Internal Server Error')
    expect(z.tags['otel.scope.name']).toBe('@threadline/express')
    expect(z.shared).toBeUndefined() // the server span has its own id, child of the caller's span
    expect(z.annotations?.[1]?.value).toBe(
      '{"retry":{"attempt":-3,"tags":["a","b"],"ok":[true,false],"scores":[1.5,2]}}',
    )
    expect(toZipkinSpan(query!).kind).toBe('CLIENT')
    expect(toZipkinSpan(query!).tags['otel.status_code']).toBe('OK')
    expect(toZipkinSpan(internal!).kind).toBeUndefined() // INTERNAL: no kind
  })

  it('keeps 64-bit trace ids 64-bit, and fills remoteEndpoint from peer attributes', () => {
    const owner = { limits: spanLimitsFromEnv(), resource, scope: { name: 't' }, onEnd() {} }
    const span = new RecordingSpan(
      owner,
      { traceId: '0000000000000000463ac35c9f6413ad', spanId: '72485a3953bb6124', traceFlags: 1 },
      'GET',
      SpanKind.CLIENT,
      { traceId: '0000000000000000463ac35c9f6413ad', spanId: '463ac35c9f6413ad', traceFlags: 1, isRemote: true },
      1,
    )
    span.setAttributes({
      'server.address': 'catalog.internal',
      'server.port': 8443,
      'network.peer.address': '10.0.0.7',
      'tags.list': ['x', 'y'],
    })
    span.end()
    const z = toZipkinSpan(span)
    expect(z.traceId).toBe('463ac35c9f6413ad')
    expect(z.remoteEndpoint).toEqual({ serviceName: 'catalog.internal', ipv4: '10.0.0.7', port: 8443 })
    expect(z.tags['tags.list']).toBe('["x","y"]')
    expect(schemaProblems(z as unknown as Record<string, unknown>)).toEqual([])
  })

  it('POSTs a JSON array to the configured endpoint (OTEL_EXPORTER_ZIPKIN_ENDPOINT)', async () => {
    const bodies: Array<{ url: string; type: string; body: ZipkinSpan[] }> = []
    const server = http.createServer((req, res) => {
      let text = ''
      req.on('data', (c) => (text += c))
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(text) })
        res.statusCode = 202
        res.end()
      })
    })
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    process.env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/spans`
    const exporter = new ZipkinExporter()
    delete process.env.OTEL_EXPORTER_ZIPKIN_ENDPOINT
    expect(await exporter.export(sampleSpans(), new AbortController().signal)).toEqual({ ok: true })
    await exporter.shutdown()
    expect(bodies[0]?.url).toBe('/api/v2/spans')
    expect(bodies[0]?.type).toBe('application/json')
    expect(bodies[0]?.body).toHaveLength(4)
    for (const span of bodies[0]!.body) expect(schemaProblems(span as unknown as Record<string, unknown>)).toEqual([])
  })
})
