// Threadline ⇄ jaeger-client: real services, one request crossing them
// (jaeger-client → Threadline → jaeger-client → Threadline) with `uber-trace-id` and `uberctx-`
// baggage; each side's spans as it exported them (Threadline: memory exporter; jaeger-client:
// Thrift batches to a loopback collector).
import { getBaggage, init, MemoryExporter, type ReadableSpan, shutdown, withBaggage } from '@threadline/core'
import { threadline } from '@threadline/express'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { listen, named, normalizeTraceId, one, type Running, waitFor } from './harness.js'
import { type JaegerSpan, jaegerService, startJaegerCollector } from './jaeger-peer.js'

let collector: Awaited<ReturnType<typeof startJaegerCollector>>
let threadlineA: Running
let threadlineB: Running
const jaegerServices: Partial<Record<'64' | '128', Running & { stop(): Promise<void> }>> = {}
const seenAtMid = new Map<string, { uberTraceId: string; baggage: Record<string, string | undefined> }>()
const baggageAtB = new Map<string, Record<string, string | undefined>>()
let exporter: MemoryExporter

beforeAll(async () => {
  collector = await startJaegerCollector()
  const a = express()
  a.use(threadline({ serviceName: 'threadline' }))
  a.get('/a', async (req, res) => {
    const target = jaegerServices[req.query.bits === '128' ? '128' : '64']
    // Threadline adds a baggage entry of its own on top of what arrived.
    const r = await withBaggage({ hop: 'threadline' }, () => fetch(`${target?.url}/mid?rid=${req.query.rid}`))
    res.status(r.status).send(await r.text())
  })
  const b = express()
  b.use(threadline({ serviceName: 'threadline' }))
  b.get('/b', (req, res) => {
    const bag = getBaggage()
    baggageAtB.set(String(req.query.rid), {
      tenant: bag.get('tenant')?.value,
      hop: bag.get('hop')?.value,
      note: bag.get('note')?.value,
    })
    res.send('ok')
  })
  threadlineA = await listen(a)
  threadlineB = await listen(b)
  for (const bits of ['64', '128'] as const) {
    const service = jaegerService({
      serviceName: `jaeger-client-${bits}`,
      collectorUrl: collector.url,
      traceId128bit: bits === '128',
      next: (path, req) =>
        path === '/start'
          ? `${threadlineA.url}/a?rid=${req.query.rid}&bits=${bits}`
          : `${threadlineB.url}/b?rid=${req.query.rid}`,
      onMid: (req, baggage) =>
        seenAtMid.set(String(req.query.rid), { uberTraceId: String(req.headers['uber-trace-id']), baggage }),
    })
    jaegerServices[bits] = { ...(await listen(service.app)), stop: service.close }
  }
  await shutdown() // the middleware started the SDK with defaults; each test starts its own
})
afterAll(async () => {
  for (const s of Object.values(jaegerServices)) {
    await s?.stop()
    await s?.close()
  }
  for (const s of [threadlineA, threadlineB, collector]) await s.close()
})
afterEach(() => shutdown())

let counter = 0
const nextRid = () => `j${++counter}`

function threadlineSpans(): { a: ReadableSpan; client: ReadableSpan; b: ReadableSpan } {
  const spans = exporter.getFinishedSpans()
  return { a: named(spans, 'GET /a'), client: named(spans, 'GET'), b: named(spans, 'GET /b') }
}

function jaegerSpan(spans: JaegerSpan[], kind: 'server' | 'client', url: string): JaegerSpan {
  return one(
    spans,
    (s) => s.tags['span.kind'] === kind && String(s.tags['http.url']).includes(url),
    `jaeger-client ${kind} span for ${url}`,
  )
}

async function startThreadline(propagators: string[]): Promise<void> {
  exporter = new MemoryExporter()
  init({ serviceName: 'threadline', exporter, batch: false, propagators })
}

describe.each([
  ['jaeger', ['jaeger']],
  ['tracecontext,baggage,jaeger', ['tracecontext', 'baggage', 'jaeger']],
])('Threadline (%s) ⇄ jaeger-client', (_, propagators) => {
  it.each(['64', '128'] as const)(
    'joins a trace started by jaeger-client (%s-bit ids) and carries uberctx- baggage both ways',
    async (bits) => {
      await startThreadline(propagators)
      const rid = nextRid()
      const res = await fetch(`${jaegerServices[bits]?.url}/start?rid=${rid}`)
      expect(await res.text()).toBe('ok')
      const { a, client, b } = await waitFor(
        () => exporter.getFinishedSpans(),
        (s) => s.length === 3,
      ).then(threadlineSpans)
      const traceId = a.spanContext().traceId
      const js = await waitFor(
        () =>
          collector.spans.filter((s) => normalizeTraceId(s.traceId.padStart(32, '0')) === normalizeTraceId(traceId)),
        (s) => s.length === 4,
      )
      const startServer = jaegerSpan(js, 'server', '/start')
      const startClient = jaegerSpan(js, 'client', '/a?')
      const midServer = jaegerSpan(js, 'server', '/mid')
      const midClient = jaegerSpan(js, 'client', '/b?')

      expect(startServer.traceId).toHaveLength(bits === '64' ? 16 : 32)
      expect(startServer.parentSpanId).toBe('0000000000000000')
      expect(startClient.parentSpanId).toBe(startServer.spanId)
      expect(traceId).toBe(startServer.traceId.padStart(32, '0'))
      expect(a.parentSpanContext?.spanId).toBe(startClient.spanId)
      expect(a.parentSpanContext?.isRemote).toBe(true)
      expect(client.parentSpanContext?.spanId).toBe(a.spanContext().spanId)
      expect(midServer.parentSpanId).toBe(client.spanContext().spanId)
      expect(midClient.parentSpanId).toBe(midServer.spanId)
      expect(b.parentSpanContext?.spanId).toBe(midClient.spanId)
      expect(b.spanContext().traceId).toBe(traceId)
      for (const s of js) expect(s.flags & 1).toBe(1)

      const [wireTrace, wireSpan, , wireFlags] = (seenAtMid.get(rid)?.uberTraceId ?? '').split(':')
      expect(normalizeTraceId(String(wireTrace).padStart(32, '0'))).toBe(normalizeTraceId(traceId))
      expect(wireSpan).toBe(client.spanContext().spanId)
      expect(Number.parseInt(String(wireFlags), 16) & 1).toBe(1)
      // baggage: jaeger-client's `tenant` through Threadline, Threadline's `hop` to jaeger-client, both to B
      // (`note` holds a space, a comma, an equals sign and a percent sign: URL-encoded both ways)
      expect(seenAtMid.get(rid)?.baggage).toEqual({ tenant: 'acme', hop: 'threadline', note: 'a b,c=d%' })
      expect(baggageAtB.get(rid)).toEqual({ tenant: 'acme', hop: 'threadline', note: 'a b,c=d%' })
    },
  )

  it('carries a trace started by Threadline through jaeger-client and back', async () => {
    await startThreadline(propagators)
    const rid = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}&bits=64`)
    expect(await res.text()).toBe('ok')
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const traceId = a.spanContext().traceId
    expect(a.parentSpanContext).toBeUndefined()
    const js = await waitFor(
      () => collector.spans.filter((s) => s.traceId.padStart(32, '0') === traceId),
      (s) => s.length === 2,
    )
    const midServer = jaegerSpan(js, 'server', '/mid')
    expect(midServer.parentSpanId).toBe(client.spanContext().spanId)
    expect(b.parentSpanContext?.spanId).toBe(jaegerSpan(js, 'client', '/b?').spanId)
    expect(b.spanContext().traceId).toBe(traceId)
    expect(seenAtMid.get(rid)?.baggage.hop).toBe('threadline')
  })

  it('keeps the debug flag (flags 3) through Threadline to jaeger-client', async () => {
    await startThreadline(propagators)
    const rid = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}&bits=64`, {
      headers: { 'uber-trace-id': '5a1d2c3b4e5f6071:8a9bacbdcedfe0f1:0:3' },
    })
    expect(await res.text()).toBe('ok')
    const [, , , wireFlags] = (seenAtMid.get(rid)?.uberTraceId ?? '').split(':')
    expect(Number.parseInt(String(wireFlags), 16) & 3).toBe(3)
    const js = await waitFor(
      () => collector.spans.filter((s) => s.traceId === '5a1d2c3b4e5f6071'),
      (s) => s.length === 2,
    )
    for (const s of js) expect(s.flags & 3, s.operationName).toBe(3)
  })

  it('respects an unsampled caller (uber-trace-id flags 0): nobody exports, the trace id still travels', async () => {
    await startThreadline(propagators)
    const rid = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}&bits=64`, {
      headers: { 'uber-trace-id': '6e0c63257de34c92:bf46e8ed6e4f8fee:0:0', 'uberctx-tenant': 'acme' },
    })
    expect(await res.text()).toBe('ok')
    const [wireTrace, , , wireFlags] = (seenAtMid.get(rid)?.uberTraceId ?? '').split(':')
    expect(normalizeTraceId(String(wireTrace).padStart(32, '0'))).toBe('6e0c63257de34c92')
    expect(Number.parseInt(String(wireFlags), 16) & 1).toBe(0)
    expect(seenAtMid.get(rid)?.baggage.tenant).toBe('acme')
    expect(baggageAtB.get(rid)?.tenant).toBe('acme')
    // A sampled request along the same path afterwards: once its spans are in, the unsampled ones would be too.
    const barrier = nextRid()
    await (await fetch(`${jaegerServices['64']?.url}/start?rid=${barrier}`)).text()
    await waitFor(
      () => collector.spans.filter((s) => s.tags['http.url'] === `${threadlineB.url}/b?rid=${barrier}`),
      (s) => s.length === 1,
    )
    expect(exporter.getFinishedSpans()).toHaveLength(3)
    expect(collector.spans.filter((s) => normalizeTraceId(s.traceId.padStart(32, '0')) === '6e0c63257de34c92')).toEqual(
      [],
    )
  })
})
