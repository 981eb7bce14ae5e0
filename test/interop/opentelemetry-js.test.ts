// Threadline → OpenTelemetry JS (sdk-trace-node + instrumentation-http, in a child process: it
// patches `http` through require hooks) → Threadline, with W3C trace context, tracestate and
// baggage. OpenTelemetry exports OTLP/HTTP protobuf to a loopback sink decoded with
// `@threadline/core/otlp`; Threadline's spans go to a memory exporter.
import { getBaggage, init, MemoryExporter, type ReadableSpan, shutdown } from '@threadline/core'
import { decodeTraceRequestProto, type OtlpSpan } from '@threadline/core/otlp'
import { threadline } from '@threadline/express'
import express from 'express'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { listen, named, one, type Running, readBody, waitFor } from './harness.js'
import { type OtelService, startOtelService } from './otel-peer.js'

interface OtelSeen {
  traceparent: string | null
  tracestate: string | null
  b3: string | null
  baggage: Record<string, string>
  spanId: string | null
  sampled: boolean | null
}
interface BSeen {
  b3?: string
  traceparent?: string
  tracestate?: string
  baggage: Record<string, string | undefined>
}

let sink: Running
const otelSpans: Array<OtlpSpan & { service: unknown }> = []
let otel: OtelService
let otelB3: OtelService
let threadlineA: Running
let threadlineB: Running
let exporter: MemoryExporter

beforeAll(async () => {
  sink = await listen(async (req, res) => {
    const decoded = decodeTraceRequestProto(new Uint8Array(await readBody(req)))
    if (decoded.ok) {
      for (const rs of decoded.request.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const span of ss.spans) otelSpans.push({ ...span, service: rs.resource.attributes['service.name'] })
    }
    res.writeHead(decoded.ok ? 200 : 400, { 'content-type': 'application/x-protobuf' }).end()
  })
  const a = express()
  a.use(threadline({ serviceName: 'threadline' }))
  a.get('/a', async (req, res) => {
    const peer = req.query.peer === 'b3' ? otelB3 : otel
    const r = await fetch(`${peer.url}/mid?rid=${req.query.rid}`)
    res.status(r.status).json(await r.json())
  })
  const b = express()
  b.use(threadline({ serviceName: 'threadline' }))
  b.get('/b', (req, res) => {
    const bag = getBaggage()
    const seen: BSeen = {
      b3: req.get('b3'),
      traceparent: req.get('traceparent'),
      tracestate: req.get('tracestate'),
      baggage: { tenant: bag.get('tenant')?.value, hop: bag.get('hop')?.value },
    }
    res.json(seen)
  })
  threadlineA = await listen(a)
  threadlineB = await listen(b)
  otel = await startOtelService(`${sink.url}/v1/traces`, `${threadlineB.url}/b`)
  otelB3 = await startOtelService(`${sink.url}/v1/traces`, `${threadlineB.url}/b`, 'b3')
  await shutdown() // the middleware started the SDK with defaults; each test starts its own
})
afterAll(async () => {
  await otel.stop()
  await otelB3.stop()
  for (const s of [threadlineA, threadlineB, sink]) await s.close()
})
beforeEach(() => {
  exporter = new MemoryExporter()
  init({ serviceName: 'threadline', exporter, batch: false }) // default propagators: tracecontext,baggage
})
afterEach(() => shutdown())

let counter = 0
const nextRid = () => `o${++counter}`

async function cross(headers: Record<string, string> = {}, peer = 'w3c') {
  const res = await fetch(`${threadlineA.url}/a?rid=${nextRid()}&peer=${peer}`, { headers })
  expect(res.status).toBe(200)
  return (await res.json()) as { otel: OtelSeen; next: BSeen }
}

function threadlineSpans(): { a: ReadableSpan; client: ReadableSpan; b: ReadableSpan } {
  const spans = exporter.getFinishedSpans()
  return { a: named(spans, 'GET /a'), client: named(spans, 'GET'), b: named(spans, 'GET /b') }
}

async function exportedByOtel(traceId: string, count: number, peer = otel): Promise<OtlpSpan[]> {
  await peer.flush()
  return waitFor(
    () => otelSpans.filter((s) => s.traceId === traceId),
    (s) => s.length >= count,
  )
}

describe('Threadline → OpenTelemetry JS → Threadline (W3C trace context + baggage)', () => {
  it('continues an incoming trace with its tracestate and baggage through all three services', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const seen = await cross({
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      tracestate: 'vendor=abc,congo=t61rcWkgMzE',
      baggage: 'tenant=acme',
    })
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const fromOtel = await exportedByOtel(traceId, 2)
    const otelServer = one(fromOtel, (s) => s.kind === 2, 'OpenTelemetry SERVER span')
    const otelClient = one(fromOtel, (s) => s.kind === 3, 'OpenTelemetry CLIENT span')

    expect(a.spanContext().traceId).toBe(traceId)
    expect(a.parentSpanContext?.spanId).toBe('00f067aa0ba902b7')
    expect(client.parentSpanContext?.spanId).toBe(a.spanContext().spanId)
    expect(otelServer.parentSpanId).toBe(client.spanContext().spanId)
    expect(otelServer.flags & 0x300).toBe(0x300) // OTLP: the parent is remote
    expect(otelClient.parentSpanId).toBe(otelServer.spanId)
    expect(b.parentSpanContext?.spanId).toBe(otelClient.spanId)
    expect(b.spanContext().traceId).toBe(traceId)
    for (const s of [otelServer, otelClient]) expect(s.flags & 1).toBe(1)

    // tracestate: kept by Threadline, continued by OTel, back to Threadline
    expect(seen.otel.tracestate).toBe('vendor=abc,congo=t61rcWkgMzE')
    expect(otelServer.traceState).toBe('vendor=abc,congo=t61rcWkgMzE')
    expect(seen.next.tracestate).toBe('vendor=abc,congo=t61rcWkgMzE')
    expect(b.spanContext().traceState?.serialize()).toBe('vendor=abc,congo=t61rcWkgMzE')
    // baggage: Threadline's to OTel, OTel's own entry added, both to Threadline
    expect(seen.otel.baggage).toEqual({ tenant: 'acme' })
    expect(seen.next.baggage).toEqual({ tenant: 'acme', hop: 'otel' })
    expect(seen.otel.traceparent).toBe(`00-${traceId}-${client.spanContext().spanId}-01`)
    expect(seen.next.traceparent).toBe(`00-${traceId}-${otelClient.spanId}-01`)
  })

  it('joins a trace started by Threadline', async () => {
    const seen = await cross()
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    expect(a.parentSpanContext).toBeUndefined()
    const traceId = a.spanContext().traceId
    const fromOtel = await exportedByOtel(traceId, 2)
    const otelServer = one(fromOtel, (s) => s.kind === 2, 'OpenTelemetry SERVER span')
    const otelClient = one(fromOtel, (s) => s.kind === 3, 'OpenTelemetry CLIENT span')
    expect(otelServer.parentSpanId).toBe(client.spanContext().spanId)
    expect(otelServer.spanId).toBe(seen.otel.spanId)
    expect(b.parentSpanContext?.spanId).toBe(otelClient.spanId)
    expect(b.spanContext().traceId).toBe(traceId)
    expect(seen.otel.tracestate).toBeNull()
    expect(seen.next.baggage).toEqual({ tenant: undefined, hop: 'otel' })
  })

  it('respects an unsampled caller: OTel does not record, nobody exports, context still travels', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c'
    const seen = await cross({
      traceparent: `00-${traceId}-b7ad6b7169203331-00`,
      tracestate: 'vendor=abc',
      baggage: 'tenant=acme',
    })
    expect(seen.otel.sampled).toBe(false)
    expect(seen.otel.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    expect(seen.next.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    expect(seen.next.tracestate).toBe('vendor=abc')
    expect(seen.next.baggage).toEqual({ tenant: 'acme', hop: 'otel' })
    // flush both sides, then a sampled request: once its spans are in, unsampled ones would be too
    await otel.flush()
    await cross()
    const sampledTrace = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length >= 3,
    )
    await exportedByOtel(sampledTrace[0]?.spanContext().traceId ?? '', 2)
    expect(exporter.getFinishedSpans()).toHaveLength(3)
    expect(otelSpans.filter((s) => s.traceId === traceId)).toEqual([])
  })
})

describe('Threadline → OpenTelemetry JS → Threadline with B3 single headers', () => {
  it('joins one trace through `b3: {trace}-{span}-{sampled}` in both directions', async () => {
    await shutdown()
    exporter = new MemoryExporter()
    init({ serviceName: 'threadline', exporter, batch: false, propagators: ['b3'] })
    const seen = await cross({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' }, 'b3')
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const traceId = '80f198ee56343ba864fe8b2a57d3eff7'
    const fromOtel = await exportedByOtel(traceId, 2, otelB3)
    const otelServer = one(fromOtel, (s) => s.kind === 2, 'OpenTelemetry SERVER span')
    const otelClient = one(fromOtel, (s) => s.kind === 3, 'OpenTelemetry CLIENT span')
    expect(a.parentSpanContext?.spanId).toBe('e457b5a2e4d86bd1')
    expect(seen.otel.b3).toBe(`${traceId}-${client.spanContext().spanId}-1`)
    expect(seen.otel.traceparent).toBeNull()
    expect(otelServer.parentSpanId).toBe(client.spanContext().spanId)
    expect(seen.next.b3).toBe(`${traceId}-${otelClient.spanId}-1`)
    expect(b.parentSpanContext?.spanId).toBe(otelClient.spanId)
    expect(b.spanContext().traceId).toBe(traceId)
  })

  it('carries an unsampled B3 decision (`-0`) through OpenTelemetry: nobody records', async () => {
    await shutdown()
    exporter = new MemoryExporter()
    init({ serviceName: 'threadline', exporter, batch: false, propagators: ['b3'] })
    const traceId = '2b0c5c2e3f1a4d6e8a9b7c6d5e4f3a2b'
    const seen = await cross({ b3: `${traceId}-1a2b3c4d5e6f7a8b-0` }, 'b3')
    expect(seen.otel.sampled).toBe(false)
    expect(seen.otel.b3).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}-0$`))
    expect(seen.next.b3).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}-0$`))
    // a sampled request along the same path afterwards: once its spans are in, unsampled ones would be too
    await cross({}, 'b3')
    const sampled = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length >= 3,
    )
    await exportedByOtel(sampled[0]?.spanContext().traceId ?? '', 2, otelB3)
    expect(exporter.getFinishedSpans()).toHaveLength(3)
    expect(otelSpans.filter((s) => s.traceId === traceId)).toEqual([])
  })
})
