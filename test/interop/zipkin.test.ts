// Threadline ⇄ zipkin-js: real Express services traced by `zipkin` (+ its express middleware and
// fetch wrapper, CLS context, HTTP transport to a loopback Zipkin collector) and by Threadline,
// one request crossing them: zipkin → Threadline → zipkin → Threadline.
import { init, MemoryExporter, type ReadableSpan, SpanKind, shutdown, ZipkinExporter } from '@threadline/core'
import { threadline } from '@threadline/express'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  listen,
  named,
  normalizeTraceId,
  one,
  type Running,
  startZipkinCollector,
  waitFor,
  type ZipkinSpan,
} from './harness.js'
import { zipkinService } from './zipkin-peer.js'

let collector: Awaited<ReturnType<typeof startZipkinCollector>>
let threadlineA: Running
let threadlineB: Running
const zipkinServices: Record<'64' | '128', Running> = {} as Record<'64' | '128', Running>
/** Headers the zipkin service's `/mid` saw, by request id: what Threadline wrote on the wire. */
const headersAtMid = new Map<string, Record<string, string | string[] | undefined>>()
let exporter: MemoryExporter

beforeAll(async () => {
  collector = await startZipkinCollector()
  const a = express()
  a.use(threadline({ serviceName: 'threadline' }))
  a.get('/a', async (req, res) => {
    const r = await fetch(`${zipkinServices[req.query.bits === '128' ? '128' : '64'].url}/mid?rid=${req.query.rid}`)
    res.status(r.status).send(await r.text())
  })
  const b = express()
  b.use(threadline({ serviceName: 'threadline' }))
  b.get('/b', (_req, res) => {
    res.send('ok')
  })
  threadlineA = await listen(a)
  threadlineB = await listen(b)
  for (const bits of ['64', '128'] as const) {
    const app = zipkinService({
      serviceName: `zipkin-js-${bits}`,
      spansUrl: `${collector.url}/api/v2/spans`,
      traceId128Bit: bits === '128',
      // `/start?rid=…` is the zipkin-js root: it calls Threadline A, which calls back `/mid`.
      next: (path, req) =>
        path === '/start'
          ? `${threadlineA.url}/a?rid=${req.query.rid}&bits=${bits}`
          : `${threadlineB.url}/b?rid=${req.query.rid}`,
      onMid: (req) => headersAtMid.set(String(req.query.rid), { ...req.headers }),
    })
    zipkinServices[bits] = await listen(app)
  }
  await shutdown() // the middleware started the SDK with defaults; each test starts its own
})
afterAll(async () => {
  for (const s of [threadlineA, threadlineB, zipkinServices['64'], zipkinServices['128'], collector]) await s.close()
})
afterEach(() => shutdown())

let requestCounter = 0
function nextRid(): string {
  requestCounter += 1
  return `r${requestCounter}`
}

/** The zipkin-js spans of one request: those whose http.path was called with this rid's trace. */
function zipkinSpan(spans: ZipkinSpan[], traceId: string, kind: 'SERVER' | 'CLIENT', path: string): ZipkinSpan {
  return one(
    spans,
    (s) =>
      normalizeTraceId(s.traceId) === normalizeTraceId(traceId) && s.kind === kind && s.tags?.['http.path'] === path,
    `zipkin ${kind} span for ${path} in trace ${traceId}`,
  )
}

function threadlineSpans(): { a: ReadableSpan; client: ReadableSpan; b: ReadableSpan } {
  const spans = exporter.getFinishedSpans()
  return { a: named(spans, 'GET /a'), client: named(spans, 'GET'), b: named(spans, 'GET /b') }
}

async function crossFromZipkin(bits: '64' | '128') {
  const rid = nextRid()
  const res = await fetch(`${zipkinServices[bits].url}/start?rid=${rid}`)
  expect(await res.text()).toBe('ok')
  const { a, client, b } = await waitFor(
    () => exporter.getFinishedSpans(),
    (s) => s.length === 3,
  ).then(threadlineSpans)
  const traceId = a.spanContext().traceId
  const zk = await waitFor(
    () =>
      collector.spans.filter(
        (s) =>
          normalizeTraceId(s.traceId) === normalizeTraceId(traceId) &&
          s.localEndpoint?.serviceName?.startsWith('zipkin-js'),
      ),
    (s) => s.length === 4,
  )
  return {
    rid,
    a,
    client,
    b,
    startServer: zipkinSpan(zk, traceId, 'SERVER', '/start'),
    startClient: zipkinSpan(zk, traceId, 'CLIENT', '/a'),
    midServer: zipkinSpan(zk, traceId, 'SERVER', '/mid'),
    midClient: zipkinSpan(zk, traceId, 'CLIENT', '/b'),
  }
}

describe.each([
  ['b3multi', ['b3multi']],
  ['b3 single and multi written', ['b3', 'b3multi']],
])('Threadline (%s) ⇄ zipkin-js', (_, propagators) => {
  it.each(['64', '128'] as const)(
    'joins one trace started by zipkin-js with %s-bit ids: zipkin → Threadline → zipkin → Threadline',
    async (bits) => {
      exporter = new MemoryExporter()
      init({ serviceName: 'threadline', exporter, batch: false, propagators })
      const t = await crossFromZipkin(bits)

      expect(t.startServer.traceId).toHaveLength(bits === '64' ? 16 : 32)
      expect(t.startServer.parentId).toBeUndefined()
      expect(t.startClient.parentId).toBe(t.startServer.id)
      // Threadline keeps 64-bit ids as 128-bit ids with a zero high half (B3 §TraceId).
      expect(t.a.spanContext().traceId).toBe(t.startServer.traceId.padStart(32, '0'))
      expect(t.a.parentSpanContext?.spanId).toBe(t.startClient.id)
      expect(t.a.parentSpanContext?.isRemote).toBe(true)
      expect(t.client.parentSpanContext?.spanId).toBe(t.a.spanContext().spanId)
      expect(t.client.kind).toBe(SpanKind.CLIENT)
      // zipkin-js servers share the caller's span id (Zipkin's shared client/server span).
      expect(t.midServer.id).toBe(t.client.spanContext().spanId)
      expect(t.midClient.parentId).toBe(t.midServer.id)
      expect(t.b.parentSpanContext?.spanId).toBe(t.midClient.id)
      expect(t.b.spanContext().traceId).toBe(t.a.spanContext().traceId)
      for (const s of [t.a, t.client, t.b]) expect(s.spanContext().traceFlags & 1).toBe(1)

      const wire = headersAtMid.get(t.rid) ?? {}
      expect(wire['x-b3-traceid']).toBeDefined()
      expect(normalizeTraceId(String(wire['x-b3-traceid']))).toBe(normalizeTraceId(t.startServer.traceId))
      expect(wire['x-b3-spanid']).toBe(t.client.spanContext().spanId)
      expect(wire['x-b3-sampled']).toBe('1')
      if (propagators.includes('b3')) {
        expect(wire.b3).toBe(`${t.a.spanContext().traceId}-${t.client.spanContext().spanId}-1`)
      } else {
        expect(wire.b3).toBeUndefined()
      }
    },
  )

  it('Threadline’s own Zipkin export and zipkin-js’s form one Zipkin trace in one collector', async () => {
    exporter = new MemoryExporter()
    const zipkinExport = new ZipkinExporter({ endpoint: `${collector.url}/api/v2/spans` })
    init({ serviceName: 'threadline', exporter: [exporter, zipkinExport], batch: false, propagators })
    const t = await crossFromZipkin('64')
    const all = await waitFor(
      () => collector.spans.filter((s) => normalizeTraceId(s.traceId) === normalizeTraceId(t.startServer.traceId)),
      (s) => s.length >= 7,
    )
    expect(all).toHaveLength(7)
    const fromThreadline = all.filter((s) => s.localEndpoint?.serviceName === 'threadline')
    expect(fromThreadline.map((s) => s.kind).sort()).toEqual(['CLIENT', 'SERVER', 'SERVER'])
    // one tree in Zipkin's terms: a single root, every parentId known; the shared server span
    // (zipkin-js /mid) carries Threadline's client span id, as Zipkin's data model has it.
    // (Threadline sends no optional X-B3-ParentSpanId, so the shared span has no parentId of its
    // own: Zipkin merges it with the client span of the same id.)
    expect(all.filter((s) => s.parentId === undefined && !s.shared)).toEqual([t.startServer])
    const ids = new Set(all.map((s) => s.id))
    for (const s of all) if (s.parentId) expect(ids.has(s.parentId)).toBe(true)
    const threadlineClient = one(fromThreadline, (s) => s.kind === 'CLIENT', 'Threadline CLIENT in Zipkin')
    expect(t.midServer.id).toBe(threadlineClient.id)
    // 64-bit trace ids: Threadline writes them back as 16 hex, as zipkin-js does
    expect(new Set(fromThreadline.map((s) => s.traceId))).toEqual(new Set([t.startServer.traceId]))
    const aServer = one(fromThreadline, (s) => s.name === 'GET /a', 'Threadline GET /a in Zipkin')
    expect(aServer.parentId).toBe(t.startClient.id)
    expect(t.midServer.shared).toBe(true)
  })

  it('carries the B3 debug flag (X-B3-Flags: 1) from zipkin-js through Threadline and back', async () => {
    exporter = new MemoryExporter()
    init({ serviceName: 'threadline', exporter, batch: false, propagators })
    const rid = nextRid()
    // no ids, only the debug flag: zipkin-js starts a debug trace (b3 §Debug Flag)
    const res = await fetch(`${zipkinServices['64'].url}/start?rid=${rid}`, { headers: { 'x-b3-flags': '1' } })
    expect(await res.text()).toBe('ok')
    const { a, client } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    expect(a.spanContext().traceFlags & 1).toBe(1)
    const wire = headersAtMid.get(rid) ?? {}
    expect(wire['x-b3-flags']).toBe('1')
    if (propagators.includes('b3')) expect(wire.b3).toBe(`${a.spanContext().traceId}-${client.spanContext().spanId}-d`)
    const traceId = a.spanContext().traceId
    const zk = await waitFor(
      () => collector.spans.filter((s) => normalizeTraceId(s.traceId) === normalizeTraceId(traceId)),
      (s) => s.length === 4,
    )
    for (const s of zk) expect((s as ZipkinSpan & { debug?: boolean }).debug, s.tags?.['http.path']).toBe(true)
  })

  it('carries a trace started by Threadline (128-bit) through zipkin-js and back', async () => {
    exporter = new MemoryExporter()
    init({ serviceName: 'threadline', exporter, batch: false, propagators })
    const rid = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}&bits=128`)
    expect(await res.text()).toBe('ok')
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const traceId = a.spanContext().traceId
    expect(a.parentSpanContext).toBeUndefined()
    const zk = await waitFor(
      () => collector.spans.filter((s) => s.traceId === traceId),
      (s) => s.length === 2,
    )
    const midServer = zipkinSpan(zk, traceId, 'SERVER', '/mid')
    const midClient = zipkinSpan(zk, traceId, 'CLIENT', '/b')
    expect(midServer.id).toBe(client.spanContext().spanId)
    expect(midClient.parentId).toBe(midServer.id)
    expect(b.parentSpanContext?.spanId).toBe(midClient.id)
    expect(b.spanContext().traceId).toBe(traceId)
  })

  it('respects an unsampled decision made upstream (X-B3-Sampled: 0): nobody exports', async () => {
    exporter = new MemoryExporter()
    init({ serviceName: 'threadline', exporter, batch: false, propagators })
    const rid = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}&bits=64`, {
      headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': '00f067aa0ba902b7', 'x-b3-sampled': '0' },
    })
    expect(await res.text()).toBe('ok')
    const wire = headersAtMid.get(rid) ?? {}
    expect(wire['x-b3-sampled']).toBe('0')
    expect(normalizeTraceId(String(wire['x-b3-traceid']))).toBe('a3ce929d0e0e4736')
    // A sampled request along the same path afterwards: once its spans are in, the unsampled ones would be too.
    await crossFromZipkin('64')
    expect(exporter.getFinishedSpans()).toHaveLength(3)
    expect(collector.spans.filter((s) => normalizeTraceId(s.traceId) === 'a3ce929d0e0e4736')).toEqual([])
  })
})

describe('Threadline with b3 (single header only) and zipkin-js', () => {
  it('reads zipkin-js’s X-B3-* headers; zipkin-js 0.22 reads no single `b3` header and starts a new trace', async () => {
    exporter = new MemoryExporter()
    init({ serviceName: 'threadline', exporter, batch: false, propagators: ['b3'] })
    const rid = nextRid()
    const res = await fetch(`${zipkinServices['128'].url}/start?rid=${rid}`)
    expect(await res.text()).toBe('ok')
    const { a, client } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const traceId = a.spanContext().traceId
    const zk = await waitFor(
      () => collector.spans.filter((s) => s.traceId === traceId),
      (s) => s.length === 2,
    )
    expect(a.parentSpanContext?.spanId).toBe(zipkinSpan(zk, traceId, 'CLIENT', '/a').id)
    const wire = headersAtMid.get(rid) ?? {}
    expect(wire.b3).toBe(`${traceId}-${client.spanContext().spanId}-1`)
    expect(wire['x-b3-traceid']).toBeUndefined()
  })
})
