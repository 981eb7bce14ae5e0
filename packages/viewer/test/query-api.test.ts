/** The query API's JSON shapes over HTTP (what the UI, Grafana and the Jaeger UI read). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Viewer } from '../src/index.js'
import { makeSpan, traceId } from './spans.js'
import { getJson, startTestViewer } from './viewer.js'

let viewer: Viewer
const now = Date.now() * 1000

beforeAll(async () => {
  viewer = await startTestViewer()
  const spans = []
  for (let i = 0; i < 10; i++) {
    const id = traceId(900 + i)
    const gw = makeSpan({
      traceId: id,
      service: 'gateway',
      name: 'GET /orders/:id',
      startUs: now - 600e6 + i * 1e6,
      durationUs: 20_000,
    })
    const orders = makeSpan({
      traceId: id,
      service: 'orders',
      name: 'GET /orders/:id',
      parentSpanId: gw.spanId,
      startUs: gw.startUs + 100,
      durationUs: (i + 1) * 1000,
      error: i === 9,
      status: i === 9 ? { code: 'ERROR', message: 'boom' } : { code: 'UNSET' },
      attributes: { 'http.route': '/orders/:id', 'http.response.status_code': i === 9 ? 500 : 200 },
    })
    const sql = makeSpan({
      traceId: id,
      service: 'orders',
      name: 'SELECT orders',
      kind: 'client',
      parentSpanId: orders.spanId,
      dbSystem: 'postgresql',
      startUs: orders.startUs + 10,
      durationUs: 500,
    })
    spans.push(gw, orders, sql)
  }
  await viewer.store.add(spans)
})
afterAll(() => viewer?.close())

describe('/api/v1', () => {
  it('lists services and operations with their span kind', async () => {
    expect((await getJson(viewer, '/api/v1/services')).body).toEqual({ services: ['gateway', 'orders'] })
    expect((await getJson(viewer, '/api/v1/services/orders/operations')).body).toEqual({
      service: 'orders',
      operations: [
        { name: 'GET /orders/:id', spanKind: 'server' },
        { name: 'SELECT orders', spanKind: 'client' },
      ],
    })
    expect((await getJson(viewer, '/api/v1/services/orders/operations?spanKind=client')).body).toMatchObject({
      operations: [{ name: 'SELECT orders', spanKind: 'client' }],
    })
  })

  it('searches with attribute, duration, error and time filters', async () => {
    const q = (query: string) =>
      getJson<{ traces: { traceId: string }[] }>(viewer, `/api/v1/traces?${query}`).then((r) =>
        r.body.traces.map((t) => Number.parseInt(t.traceId, 16) - 900),
      )
    expect(await q('service=orders&attr=http.route=/orders/:id&minDuration=5ms&lookback=1h')).toEqual([
      9, 8, 7, 6, 5, 4,
    ])
    expect(await q('service=orders&attr=http.response.status_code=500')).toEqual([9])
    expect(await q('errors=true')).toEqual([9])
    expect(await q('maxDuration=2ms&service=orders&operation=GET%20%2Forders%2F%3Aid')).toEqual([1, 0])
    expect(await q(`start=${(now - 600e6) / 1000}&end=${(now - 598e6) / 1000}`)).toEqual([2, 1, 0])
    expect(await q('limit=2')).toEqual([9, 8])
    const { body } = await getJson<{ traces: unknown[] }>(viewer, '/api/v1/traces?limit=1')
    expect(body.traces[0]).toEqual({
      traceId: traceId(909),
      rootService: 'gateway',
      rootName: 'GET /orders/:id',
      startUs: now - 600e6 + 9e6,
      durationUs: 20_000,
      spanCount: 3,
      errorCount: 1,
      services: [
        { name: 'orders', spanCount: 2 },
        { name: 'gateway', spanCount: 1 },
      ],
    })
  })

  it('gives dependencies with database nodes and RED statistics in buckets', async () => {
    const deps = await getJson(viewer, '/api/v1/dependencies?lookback=1h')
    expect(deps.body).toMatchObject({
      nodes: [
        { name: 'gateway', kind: 'service' },
        { name: 'orders', kind: 'service' },
        { name: 'postgresql', kind: 'database' },
      ],
      edges: [
        {
          parent: 'gateway',
          child: 'orders',
          childKind: 'service',
          callCount: 10,
          errorCount: 1,
          errorRate: 0.1,
          p95Us: 10_000,
        },
        {
          parent: 'orders',
          child: 'postgresql',
          childKind: 'database',
          callCount: 10,
          errorCount: 0,
          errorRate: 0,
          p95Us: 500,
        },
      ],
    })
    const red = await getJson<{
      operations: { operation: string; total: Record<string, unknown>; buckets: unknown[] }[]
    }>(
      viewer,
      `/api/v1/red?service=orders&operation=${encodeURIComponent('GET /orders/:id')}&start=${(now - 700e6) / 1000}&end=${(now - 500e6) / 1000}&buckets=4`,
    )
    expect(red.status).toBe(200)
    expect(red.body.operations).toHaveLength(1)
    expect(red.body.operations[0]).toMatchObject({
      service: 'orders',
      operation: 'GET /orders/:id',
      spanKind: 'server',
      total: { count: 10, errorCount: 1, errorRate: 0.1, p50: 5000, p95: 10_000, p99: 10_000, rate: 10 / 200 },
    })
    expect(red.body.operations[0]!.buckets).toHaveLength(4)
  })
})

describe('Jaeger-compatible endpoints', () => {
  it('answer in jaeger-query shapes', async () => {
    expect((await getJson(viewer, '/api/services')).body).toMatchObject({
      data: ['gateway', 'orders'],
      total: 2,
      errors: null,
    })
    expect((await getJson(viewer, '/api/services/orders/operations')).body).toMatchObject({
      data: ['GET /orders/:id', 'SELECT orders'],
    })
    expect((await getJson(viewer, '/api/operations?service=orders&spanKind=client')).body).toMatchObject({
      data: [{ name: 'SELECT orders', spanKind: 'client' }],
    })
    const traces = await getJson<{
      data: { traceID: string; spans: Record<string, unknown>[]; processes: Record<string, unknown> }[]
    }>(
      viewer,
      `/api/traces?service=orders&tags=${encodeURIComponent('{"http.response.status_code":"500"}')}&lookback=1h&limit=5`,
    )
    expect(traces.body.data).toHaveLength(1)
    const [trace] = traces.body.data
    expect(trace!.traceID).toBe(traceId(909))
    const server = trace!.spans.find(
      (s) =>
        s['operationName'] === 'GET /orders/:id' && (s['tags'] as { key: string }[]).some((t) => t.key === 'error'),
    )!
    expect(server).toMatchObject({
      references: [{ refType: 'CHILD_OF', traceID: traceId(909) }],
      duration: 10_000,
      tags: expect.arrayContaining([
        { key: 'http.response.status_code', type: 'int64', value: 500 },
        { key: 'span.kind', type: 'string', value: 'server' },
        { key: 'error', type: 'bool', value: true },
      ]),
    })
    const errorsOnly = await getJson<{ data: unknown[] }>(
      viewer,
      `/api/traces?service=gateway&tags=${encodeURIComponent('{"error":"true"}')}`,
    )
    expect(errorsOnly.body.data).toHaveLength(1)
    const deps = await getJson(viewer, `/api/dependencies?endTs=${Date.now()}&lookback=3600000`)
    expect(deps.body).toMatchObject({
      data: [
        { parent: 'gateway', child: 'orders', callCount: 10 },
        { parent: 'orders', child: 'postgresql', callCount: 10 },
      ],
    })
  })
})
