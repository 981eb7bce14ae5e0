/**
 * Bad input gets a 4xx with a reason, never a crash: malformed bodies, wrong content types,
 * oversized and compressed-bomb bodies, invalid ids and times, absurd attributes, and the
 * gRPC equivalents. After every case the viewer still answers.
 */

import { request } from 'node:http'
import { connect } from 'node:http2'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Viewer } from '../src/index.js'
import { getJson, startTestViewer } from './viewer.js'

let viewer: Viewer
const LIMIT = 1024 * 1024

beforeAll(async () => {
  viewer = await startTestViewer({ maxBodyBytes: LIMIT })
})
afterAll(() => viewer?.close())

const now = BigInt(Date.now()) * 1_000_000n

function otlpJson(spans: Record<string, unknown>[], service = 'bad-input'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 't' }, spans }],
      },
    ],
  })
}

function jsonSpan(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    name: 'ok',
    kind: 2,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 1_000_000n),
    ...fields,
  }
}

async function post(port: number, path: string, body: string | Buffer, headers: Record<string, string>) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body })
  return { status: response.status, text: await response.text() }
}

const otlp = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  post(viewer.ports.otlpHttp, '/v1/traces', body, headers)
const zipkin = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  post(viewer.ports.zipkin, '/api/v2/spans', body, headers)

describe('OTLP/HTTP', () => {
  it('answers malformed JSON with 400 and the reason', async () => {
    const r = await otlp('{"resourceSpans": [')
    expect(r.status).toBe(400)
    expect(JSON.parse(r.text)).toMatchObject({ code: 3, message: expect.stringContaining('JSON') })
  })

  it('answers malformed protobuf with 400 and a google.rpc.Status body', async () => {
    const r = await otlp(Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01]), { 'content-type': 'application/x-protobuf' })
    expect(r.status).toBe(400)
    expect(r.text).toContain('truncated')
  })

  it('answers a wrong content type with 415, a wrong method with 405, another path with 404', async () => {
    expect((await otlp('hello', { 'content-type': 'text/plain' })).status).toBe(415)
    expect((await otlp('x', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415)
    expect((await fetch(`http://127.0.0.1:${viewer.ports.otlpHttp}/v1/traces`)).status).toBe(405)
    expect(
      (await post(viewer.ports.otlpHttp, '/v1/metrics', '{}', { 'content-type': 'application/json' })).status,
    ).toBe(404)
  })

  it('answers a declared oversized body with 413 without reading it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: viewer.ports.otlpHttp,
        path: '/v1/traces',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(LIMIT * 100) },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.write('{')
      // the rest is never sent: the answer must come from the header alone
    })
    expect(status).toBe(413)
  })

  it('stops a streamed (chunked) body at the limit with 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: viewer.ports.otlpHttp,
        path: '/v1/traces',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      let sent = 0
      // bounded: twice the limit at most; the server answers before we get there
      const pump = () => {
        while (sent < LIMIT * 2) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
      }
      pump()
    })
    expect(status).toBe(413)
  })

  it('answers a gzip bomb (small body, huge when inflated) with 413', async () => {
    const bomb = gzipSync(Buffer.alloc(LIMIT * 4, 0x20))
    expect(bomb.length).toBeLessThan(LIMIT)
    const r = await otlp(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(r.status).toBe(413)
    const broken = await otlp(Buffer.from('not gzip at all'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    })
    expect(broken.status).toBe(400)
  })

  it('accepts gzip bodies', async () => {
    const r = await otlp(gzipSync(otlpJson([jsonSpan({ spanId: '1111111111111111' })], 'gzip-json')), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    })
    expect(r.status).toBe(200)
    expect((await getJson(viewer, '/api/v1/services')).body).toMatchObject({
      services: expect.arrayContaining(['gzip-json']),
    })
  })

  it('stores the valid spans and reports the invalid ones as OTLP partial success', async () => {
    const r = await otlp(
      otlpJson([
        jsonSpan({ spanId: 'aaaaaaaaaaaaaaa1', name: 'valid' }),
        jsonSpan({ traceId: 'abc', spanId: 'aaaaaaaaaaaaaaa2' }),
        jsonSpan({ spanId: '0000000000000000' }),
        jsonSpan({ spanId: 'aaaaaaaaaaaaaaa3', endTimeUnixNano: String(now - 5_000_000n) }),
        jsonSpan({ spanId: 'aaaaaaaaaaaaaaa4', startTimeUnixNano: '0' }),
      ]),
    )
    expect(r.status).toBe(200)
    const body = JSON.parse(r.text)
    expect(body.partialSuccess.rejectedSpans).toBe('4')
    expect(body.partialSuccess.errorMessage).toMatch(/ends before it starts|trace id|span id|start time/)
  })

  it('truncates a 10 MB attribute and drops attributes past the count limit', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024)
    const many = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, value: { intValue: String(i) } }))
    const local = await startTestViewer()
    try {
      const r = await post(
        local.ports.otlpHttp,
        '/v1/traces',
        otlpJson([
          jsonSpan({ spanId: 'bbbbbbbbbbbbbbb1', attributes: [{ key: 'huge', value: { stringValue: big } }] }),
          jsonSpan({ spanId: 'bbbbbbbbbbbbbbb2', attributes: many }),
        ]),
        { 'content-type': 'application/json' },
      )
      expect(r.status).toBe(200)
      const spans = local.store.trace('5b8efff798038103d269b633813fc60c')!
      const huge = spans.find((s) => s.spanId === 'bbbbbbbbbbbbbbb1')!
      expect((huge.attributes['huge'] as string).length).toBe(16 * 1024)
      const crowded = spans.find((s) => s.spanId === 'bbbbbbbbbbbbbbb2')!
      expect(Object.keys(crowded.attributes)).toHaveLength(1024)
      expect(crowded.droppedAttributesCount).toBe(5000 - 1024)
    } finally {
      await local.close()
    }
  })

  it('stores every attribute value type within the limits: bytes as base64, nested strings cut, a long key cut', async () => {
    const longKey = 'k'.repeat(2000)
    const local = await startTestViewer()
    try {
      const r = await post(
        local.ports.otlpHttp,
        '/v1/traces',
        otlpJson([
          jsonSpan({
            spanId: 'ddddddddddddddd1',
            attributes: [
              { key: 's', value: { stringValue: 'plain' } },
              { key: 'i', value: { intValue: '42' } },
              { key: 'd', value: { doubleValue: 2.5 } },
              { key: 'b', value: { boolValue: false } },
              { key: 'raw', value: { bytesValue: Buffer.from('hello').toString('base64') } },
              {
                key: 'nested',
                value: {
                  kvlistValue: {
                    values: [
                      { key: 'long', value: { stringValue: 'y'.repeat(20_000) } },
                      { key: 'list', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'two' }] } } },
                    ],
                  },
                },
              },
            ],
            events: [
              {
                name: 'e',
                timeUnixNano: String(now),
                attributes: [{ key: 'blob', value: { bytesValue: Buffer.from([1, 2, 3]).toString('base64') } }],
              },
            ],
          }),
          jsonSpan({ spanId: 'ddddddddddddddd2', attributes: [{ key: longKey, value: { stringValue: 'v' } }] }),
        ]),
        { 'content-type': 'application/json' },
      )
      expect(r.status).toBe(200)
      const spans = local.store.trace('5b8efff798038103d269b633813fc60c')!
      const typed = spans.find((s) => s.spanId === 'ddddddddddddddd1')!
      expect(typed.attributes).toEqual({
        s: 'plain',
        i: 42,
        d: 2.5,
        b: false,
        raw: Buffer.from('hello').toString('base64'),
        nested: { long: 'y'.repeat(16 * 1024), list: [1, 'two'] },
      })
      expect(typed.events[0]!.attributes).toEqual({ blob: Buffer.from([1, 2, 3]).toString('base64') })
      expect(typed.droppedAttributesCount).toBeUndefined()
      const keyed = spans.find((s) => s.spanId === 'ddddddddddddddd2')!
      expect(keyed.attributes).toEqual({ ['k'.repeat(1024)]: 'v' })
    } finally {
      await local.close()
    }
  })

  it('rejects 100k attributes on one span with 400 (core decoder limit), not a crash', async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ key: `k${i}`, value: { boolValue: true } }))
    const r = await otlp(otlpJson([jsonSpan({ spanId: 'ccccccccccccccc1', attributes: many })]))
    expect([200, 400, 413]).toContain(r.status)
    expect(r.status).not.toBe(200)
  })
})

describe('Zipkin', () => {
  it('accepts v2 JSON with 202 and pads 64-bit trace ids', async () => {
    const r = await zipkin(
      JSON.stringify([
        {
          traceId: '463ac35c9f6413ad',
          id: '72485a3953bb6124',
          name: 'get /api',
          kind: 'SERVER',
          timestamp: Date.now() * 1000,
          duration: 2500,
          localEndpoint: { serviceName: 'zipkin-app', ipv4: '10.0.0.1' },
          tags: { 'http.path': '/api', error: 'boom' },
          annotations: [{ timestamp: Date.now() * 1000, value: 'ws' }],
        },
      ]),
    )
    expect(r.status).toBe(202)
    const [span] = viewer.store.trace('0000000000000000463ac35c9f6413ad')!
    expect(span).toMatchObject({
      service: 'zipkin-app',
      kind: 'server',
      durationUs: 2500,
      error: true,
      status: { code: 'ERROR', message: 'boom' },
      events: [{ name: 'ws' }],
    })
  })

  it('answers malformed JSON, a non-array, and all-invalid spans with 400; a wrong type with 415', async () => {
    expect((await zipkin('[{')).status).toBe(400)
    expect((await zipkin('{"traceId":"1"}')).status).toBe(400)
    const invalid = await zipkin(JSON.stringify([{ traceId: 'zz', id: '1', timestamp: 1 }, 42, null]))
    expect(invalid.status).toBe(400)
    expect(invalid.text).toContain('every span was rejected')
    expect((await zipkin('[]', { 'content-type': 'application/x-thrift' })).status).toBe(415)
    expect((await zipkin(Buffer.alloc(LIMIT + 10, 0x20))).status).toBe(413)
  })

  it('gives a shared (B3 single-host) server span its own id, child of the client span', async () => {
    const trace = 'a'.repeat(32)
    const t = Date.now() * 1000
    const r = await zipkin(
      JSON.stringify([
        {
          traceId: trace,
          id: '1000000000000001',
          name: 'call',
          kind: 'CLIENT',
          timestamp: t,
          duration: 10,
          localEndpoint: { serviceName: 'a' },
        },
        {
          traceId: trace,
          id: '1000000000000001',
          name: 'serve',
          kind: 'SERVER',
          shared: true,
          timestamp: t + 1,
          duration: 5,
          localEndpoint: { serviceName: 'b' },
        },
      ]),
    )
    expect(r.status).toBe(202)
    const spans = viewer.store.trace(trace)!
    expect(spans).toHaveLength(2)
    expect(spans[1]).toMatchObject({ name: 'serve', parentSpanId: '1000000000000001' })
    expect(spans[1]!.spanId).not.toBe('1000000000000001')
  })
})

describe('OTLP/gRPC', () => {
  async function grpcCall(path: string, body: Buffer, headers: Record<string, string> = {}) {
    const client = connect(`http://127.0.0.1:${viewer.ports.otlpGrpc}`)
    try {
      return await new Promise<{ status: string | undefined; message: string | undefined; data: Buffer }>(
        (resolve, reject) => {
          const stream = client.request({
            ':method': 'POST',
            ':path': path,
            'content-type': 'application/grpc',
            te: 'trailers',
            ...headers,
          })
          const chunks: Buffer[] = []
          let status: string | undefined
          let message: string | undefined
          stream.on('response', (h) => {
            status ??= h['grpc-status'] as string | undefined
            message ??= h['grpc-message'] as string | undefined
          })
          stream.on('trailers', (h) => {
            status = h['grpc-status'] as string
            message = h['grpc-message'] as string | undefined
          })
          stream.on('data', (c: Buffer) => chunks.push(c))
          stream.on('end', () =>
            resolve({ status, message: message && decodeURIComponent(message), data: Buffer.concat(chunks) }),
          )
          stream.on('error', reject)
          stream.end(body)
        },
      )
    } finally {
      client.close()
    }
  }
  const frame = (message: Buffer, compressed = 0) => {
    const prefix = Buffer.alloc(5)
    prefix[0] = compressed
    prefix.writeUInt32BE(message.length, 1)
    return Buffer.concat([prefix, message])
  }
  const EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'

  it('answers an empty request with OK and an empty response message', async () => {
    const r = await grpcCall(EXPORT, frame(Buffer.alloc(0)))
    expect(r.status).toBe('0')
    expect([...r.data]).toEqual([0, 0, 0, 0, 0])
  })

  it('answers garbage with INVALID_ARGUMENT and a reason', async () => {
    const r = await grpcCall(EXPORT, frame(Buffer.from([0x0a, 0xff, 0xff, 0xff])))
    expect(r.status).toBe('3')
    expect(r.message).toContain('truncated')
    expect((await grpcCall(EXPORT, Buffer.from([0, 0]))).status).toBe('3')
    expect((await grpcCall(EXPORT, frame(Buffer.from('x')).subarray(0, 4))).status).toBe('3')
    expect((await grpcCall(EXPORT, frame(gzipSync(Buffer.alloc(10)), 1), { 'grpc-encoding': 'snappy' })).status).toBe(
      '12',
    )
  })

  it('answers an unknown method with UNIMPLEMENTED and an oversized message with RESOURCE_EXHAUSTED', async () => {
    expect(
      (await grpcCall('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', frame(Buffer.alloc(0))))
        .status,
    ).toBe('12')
    expect((await grpcCall(EXPORT, frame(Buffer.alloc(LIMIT + 100)))).status).toBe('8')
  })
})

describe('query API parameters', () => {
  it('answers bad parameters with 400 and the reason, unknown paths with 404', async () => {
    const cases = [
      '/api/v1/traces?minDuration=fast',
      '/api/v1/traces?limit=-1',
      '/api/v1/traces?attr=novalue',
      '/api/v1/traces?start=yesterday',
      '/api/v1/traces?spanKind=sideways',
      '/api/v1/dependencies?start=2000&end=1000',
      '/api/traces',
      '/api/traces?service=x&tags=notjson',
    ]
    for (const path of cases) {
      const r = await getJson(viewer, path)
      expect(r.status, path).toBe(400)
    }
    expect((await getJson(viewer, '/api/v1/nothing')).status).toBe(404)
    expect((await getJson(viewer, '/api/v1/traces/ffffffffffffffffffffffffffffffff')).status).toBe(404)
    expect((await getJson(viewer, '/api/traces/ffffffffffffffffffffffffffffffff')).status).toBe(404)
  })

  it('is still alive and counting after all of the above', async () => {
    const status = await getJson<{ failedRequests: number; rejectedSpans: number }>(viewer, '/api/v1/status')
    expect(status.status).toBe(200)
    expect(status.body.failedRequests).toBeGreaterThan(5)
    expect(status.body.rejectedSpans).toBeGreaterThan(3)
  })
})
