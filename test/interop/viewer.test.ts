// The Threadline viewer receives all the cross-tracer traces at once and returns each as one
// trace: Threadline (OTLP), OpenTelemetry JS (OTLP, child process), zipkin-js (Zipkin v2 JSON)
// straight to its collector ports; jaeger-client (Thrift to a loopback Jaeger collector) and the
// X-Ray SDK (UDP daemon documents) through small relays that translate to Zipkin v2 JSON, as an
// OpenTelemetry Collector's jaeger / awsxray receivers would translate them.
import { init, OtlpExporter, shutdown, trace } from '@threadline/core'
import { threadline } from '@threadline/express'
import { startViewer, type Viewer } from '@threadline/viewer'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listen, type Running, waitFor, type ZipkinSpan } from './harness.js'
import { type JaegerSpan, jaegerService, startJaegerCollector } from './jaeger-peer.js'
import { type OtelService, startOtelService } from './otel-peer.js'
import { type DaemonListener, flatten, startDaemonListener, type XrayDocument, xrayService } from './xray-peer.js'
import { zipkinService } from './zipkin-peer.js'

interface ViewerSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  service: string
  name: string
  kind: string
}

let viewer: Viewer
let threadlineA: Running
let threadlineB: Running
let otel: OtelService
let zipkin: Running
let jaegerCollector: Awaited<ReturnType<typeof startJaegerCollector>>
let jaeger: Running & { stop(): Promise<void> }
let daemon: DaemonListener
let xray: Running

const viaA = (mid: string) => `${threadlineA.url}/a?next=${encodeURIComponent(mid)}`

async function postZipkin(spans: ZipkinSpan[]): Promise<void> {
  const res = await fetch(viewer.urls.zipkin, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spans),
  })
  expect(res.status).toBeLessThan(300)
}

function jaegerToZipkin(s: JaegerSpan): ZipkinSpan {
  const tags: Record<string, string> = {}
  for (const [k, v] of Object.entries(s.tags)) tags[k] = String(v)
  return {
    traceId: s.traceId,
    id: s.spanId,
    ...(s.parentSpanId === '0000000000000000' ? {} : { parentId: s.parentSpanId }),
    name: s.operationName,
    kind: s.tags['span.kind'] === 'server' ? 'SERVER' : 'CLIENT',
    timestamp: s.startUs,
    duration: s.durationUs,
    localEndpoint: { serviceName: s.serviceName },
    tags,
  }
}

function xrayToZipkin(d: XrayDocument, service: string): ZipkinSpan {
  const [, epoch, rest] = String(d.trace_id).split('-')
  const url = d.http?.request?.url
  return {
    traceId: `${epoch}${rest}`,
    id: d.id,
    ...(d.parent_id ? { parentId: d.parent_id } : {}),
    name: `${d.http?.request?.method ?? ''} ${url ? new URL(String(url)).pathname : d.name}`.trim(),
    kind: d.namespace === 'remote' ? 'CLIENT' : 'SERVER',
    timestamp: Math.round(d.start_time * 1e6),
    duration: Math.round(((d.end_time ?? d.start_time) - d.start_time) * 1e6),
    localEndpoint: { serviceName: service },
    tags: {},
  }
}

beforeAll(async () => {
  viewer = await startViewer({ otlpHttpPort: 0, otlpGrpcPort: 0, zipkinPort: 0, uiPort: 0 })
  const a = express()
  a.use(threadline({ serviceName: 'threadline' }))
  a.get('/a', async (req, res) => {
    const r = await fetch(String(req.query.next))
    res.status(r.status).send(await r.text())
  })
  const b = express()
  b.use(threadline({ serviceName: 'threadline' }))
  b.get('/b', (_req, res) => {
    // each chain relays B's answer back to the test: the trace id B joined
    trace('answer', (span) => res.send(span.spanContext().traceId))
  })
  threadlineA = await listen(a)
  threadlineB = await listen(b)
  await shutdown()
  init({
    serviceName: 'threadline',
    exporter: new OtlpExporter({ url: viewer.urls.otlpHttp }),
    propagators: ['tracecontext', 'baggage', 'b3multi', 'jaeger', 'xray'],
    batch: { scheduledDelayMs: 20 },
  })
  otel = await startOtelService(viewer.urls.otlpHttp, `${threadlineB.url}/b`)

  zipkin = await listen(
    zipkinService({
      serviceName: 'zipkin-js',
      spansUrl: viewer.urls.zipkin,
      traceId128Bit: false, // 64-bit ids: the viewer must pad them to join Threadline's 128-bit form
      next: (path) => (path === '/start' ? viaA(`${zipkin.url}/mid`) : `${threadlineB.url}/b`),
    }),
  )

  jaegerCollector = await startJaegerCollector()
  const j = jaegerService({
    serviceName: 'jaeger-client',
    collectorUrl: jaegerCollector.url,
    next: (path) => (path === '/start' ? viaA(`${jaeger.url}/mid`) : `${threadlineB.url}/b`),
  })
  jaeger = { ...(await listen(j.app)), stop: j.close }

  daemon = await startDaemonListener()
  xray = await listen(
    xrayService({
      name: 'xray-sdk',
      daemonAddress: daemon.address,
      next: (path) => (path === '/start' ? viaA(`${xray.url}/mid`) : `${threadlineB.url}/b`),
    }),
  )
})

afterAll(async () => {
  await shutdown()
  await otel.stop()
  await jaeger.stop()
  for (const s of [zipkin, jaeger, xray, jaegerCollector, threadlineA, threadlineB]) await s.close()
  await daemon.close()
  await viewer.close()
})

async function viewerTrace(traceId: string): Promise<ViewerSpan[]> {
  const res = await fetch(`http://127.0.0.1:${viewer.ports.ui}/api/v1/traces/${traceId}`)
  if (res.status === 404) return []
  return ((await res.json()) as { spans: ViewerSpan[] }).spans
}

/** One trace: one root, every other span's parent inside the trace. */
function expectOneTree(spans: ViewerSpan[]): void {
  const ids = new Set(spans.map((s) => s.spanId))
  expect(spans.filter((s) => s.parentSpanId === undefined)).toHaveLength(1)
  for (const s of spans) if (s.parentSpanId !== undefined) expect(ids.has(s.parentSpanId), s.name).toBe(true)
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(1)
}

describe('the viewer receives Threadline, OpenTelemetry, zipkin-js, jaeger-client and X-Ray SDK spans at once', () => {
  it('returns each cross-tracer request as one trace', async () => {
    const [viaOtel, viaZipkin, viaJaeger, viaXray] = await Promise.all(
      [viaA(`${otel.url}/mid`), `${zipkin.url}/start`, `${jaeger.url}/start`, `${xray.url}/start`].map(async (url) => {
        const res = await fetch(url)
        expect(res.status).toBe(200)
        const text = await res.text()
        // the OpenTelemetry service wraps what it relays in JSON ({ otel, next })
        return text.startsWith('{') ? String((JSON.parse(text) as { next: unknown }).next) : text
      }),
    )
    await otel.flush()
    // the relays: jaeger-client's Thrift spans and the X-Ray SDK's documents, as Zipkin v2 JSON
    const jaegerSpans = await waitFor(
      () => jaegerCollector.spans,
      (s) => s.length >= 4,
    )
    await postZipkin(jaegerSpans.map(jaegerToZipkin))
    const xrayDocs = await waitFor(
      () => daemon.received,
      (d) => d.length >= 2,
    )
    await postZipkin(flatten(xrayDocs).map((d) => xrayToZipkin(d, 'xray-sdk')))

    const expected: Array<[string, string, number, string]> = [
      ['OpenTelemetry JS', viaOtel as string, 6, 'otel-js'],
      ['zipkin-js', viaZipkin as string, 8, 'zipkin-js'],
      ['jaeger-client', viaJaeger as string, 8, 'jaeger-client'],
      ['AWS X-Ray SDK', viaXray as string, 8, 'xray-sdk'],
    ]
    for (const [peer, traceId, count, service] of expected) {
      const spans = await waitFor(
        () => viewerTrace(traceId),
        // polled through the query API until every span of the request has arrived
        (s) => s.length >= count,
      )
      expect(spans, peer).toHaveLength(count)
      expectOneTree(spans)
      expect(new Set(spans.map((s) => s.service)), peer).toEqual(new Set(['threadline', service]))
      // and search by the peer's service finds it as one trace with both services
      const search = await fetch(`http://127.0.0.1:${viewer.ports.ui}/api/v1/traces?service=${service}&limit=20`)
      const { traces } = (await search.json()) as {
        traces: Array<{ traceId: string; spanCount: number; services: Array<{ name: string }> }>
      }
      const summary = traces.find((t) => t.traceId === traceId)
      expect(summary?.spanCount, peer).toBe(count)
      expect(summary?.services.map((x) => x.name).sort(), peer).toEqual(['threadline', service].sort())
    }
    expect(new Set(expected.map(([, id]) => id)).size).toBe(4)
  })
})
