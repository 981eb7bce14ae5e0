/**
 * Real SDKs export into a running viewer: Threadline (OTLP protobuf through its exporter, OTLP
 * JSON through its encoder), OpenTelemetry JS (OTLP/HTTP protobuf and JSON, OTLP/gRPC) and
 * zipkin-js (HTTP transport, Zipkin v2 JSON). One trace made of spans from all three comes back
 * whole, with its parent links.
 */
import * as otel from '@opentelemetry/api'
import { OTLPTraceExporter as OtelGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { OTLPTraceExporter as OtelJsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OtelProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import {
  forceFlush,
  init,
  MemoryExporter,
  OtlpExporter,
  SpanKind,
  shutdown,
  type SpanExporter as ThreadlineExporter,
  trace,
  ZipkinExporter,
} from '@threadline/core'
import { encodeTraceRequestJson } from '@threadline/core/otlp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Annotation, BatchRecorder, ExplicitContext, jsonEncoder, option, TraceId, Tracer } from 'zipkin'
import { HttpLogger } from 'zipkin-transport-http'
import type { Viewer } from '../src/index.js'
import { type ApiSpan, getJson, getTrace, startTestViewer } from './viewer.js'

let viewer: Viewer
const memory = new MemoryExporter()

beforeAll(async () => {
  viewer = await startTestViewer()
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${viewer.ports.otlpHttp}`
  process.env['OTEL_EXPORTER_OTLP_PROTOCOL'] = 'http/protobuf'
  init({ serviceName: 'gateway', exporter: [memory, 'otlp'], batch: false, instrument: { fetch: false, http: false } })
})

afterAll(async () => {
  await shutdown()
  await viewer?.close()
})

function otelProvider(service: string, exporter: SpanExporter): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
}

function parentContext(traceId: string, spanId: string): otel.Context {
  return otel.trace.setSpanContext(otel.ROOT_CONTEXT, { traceId, spanId, traceFlags: 1, isRemote: true })
}

function zipkinTracer(service: string): { tracer: Tracer; flush: () => Promise<void> } {
  // zipkin-transport-http's typings omit fetchImplementation, processQueue and its EventEmitter side
  const logger = new HttpLogger({
    endpoint: `http://127.0.0.1:${viewer.ports.zipkin}/api/v2/spans`,
    jsonEncoder: jsonEncoder.JSON_V2,
    fetchImplementation: fetch,
    httpInterval: 3_600_000,
  } as ConstructorParameters<typeof HttpLogger>[0]) as HttpLogger & {
    once(event: 'success' | 'error', listener: (value: unknown) => void): void
    processQueue(fetchImplementation: typeof fetch): void
  }
  const tracer = new Tracer({
    ctxImpl: new ExplicitContext(),
    recorder: new BatchRecorder({ logger }),
    localServiceName: service,
    traceId128Bit: true,
  })
  const flush = () =>
    new Promise<void>((resolve, reject) => {
      logger.once('success', () => resolve())
      logger.once('error', reject)
      logger.processQueue(fetch)
    })
  return { tracer, flush }
}

function byName(spans: ApiSpan[], name: string): ApiSpan {
  const span = spans.find((s) => s.name === name)
  if (!span) throw new Error(`no span "${name}" among ${spans.map((s) => s.name).join(', ')}`)
  return span
}

describe('one trace across Threadline, OpenTelemetry JS (gRPC) and zipkin-js', () => {
  it('is returned whole, with correct parent links, services and dependency edges', async () => {
    // gateway (Threadline, OTLP/HTTP protobuf through its own exporter)
    let traceId = ''
    let gatewaySpanId = ''
    trace(
      'GET /orders/:id',
      (span) => {
        span.setAttribute('http.route', '/orders/:id')
        traceId = span.spanContext().traceId
        gatewaySpanId = span.spanContext().spanId
      },
      { kind: SpanKind.SERVER },
    )
    await forceFlush()

    // orders (OpenTelemetry JS, OTLP/gRPC): a server span, a SQL client span, an HTTP client span
    const grpc = new OtelGrpcExporter({
      url: `http://127.0.0.1:${viewer.ports.otlpGrpc}`,
      compression: 'gzip' as never,
    })
    const orders = otelProvider('orders', grpc)
    const tracer = orders.getTracer('orders-test')
    const server = tracer.startSpan(
      'GET /orders/:id',
      { kind: otel.SpanKind.SERVER },
      parentContext(traceId, gatewaySpanId),
    )
    const serverCtx = otel.trace.setSpan(otel.ROOT_CONTEXT, server)
    const sql = tracer.startSpan(
      'SELECT orders',
      {
        kind: otel.SpanKind.CLIENT,
        attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM orders WHERE id = $1' },
      },
      serverCtx,
    )
    sql.end()
    const call = tracer.startSpan(
      'POST',
      { kind: otel.SpanKind.CLIENT, attributes: { 'http.request.method': 'POST' } },
      serverCtx,
    )
    const callSpanId = call.spanContext().spanId
    call.end()
    server.end()
    await orders.forceFlush()
    await orders.shutdown()

    // catalog (zipkin-js, Zipkin v2 JSON over HTTP): the server side of orders' call
    const { tracer: zipkin, flush } = zipkinTracer('catalog')
    zipkin.setId(
      new TraceId({
        traceId,
        parentId: new option.Some(callSpanId),
        spanId: 'c0ffee00c0ffee01',
        sampled: new option.Some(true),
      }),
    )
    zipkin.recordServiceName('catalog')
    zipkin.recordRpc('POST /graphql')
    zipkin.recordAnnotation(new Annotation.ServerRecv())
    zipkin.recordBinary('graphql.operation.name', 'Prices')
    zipkin.recordAnnotation(new Annotation.ServerSend())
    await flush()

    const spans = await getTrace(viewer, traceId)
    expect(spans.map((s) => `${s.service}:${s.name}`).sort()).toEqual([
      'catalog:post /graphql',
      'gateway:GET /orders/:id',
      'orders:GET /orders/:id',
      'orders:POST',
      'orders:SELECT orders',
    ])
    const gateway = byName(spans, 'GET /orders/:id')
    const ordersServer = spans.find((s) => s.service === 'orders' && s.kind === 'server')!
    expect(spans.find((s) => s.parentSpanId === undefined)?.spanId).toBe(gatewaySpanId)
    expect(gateway.kind).toBe('server')
    expect(ordersServer.parentSpanId).toBe(gatewaySpanId)
    expect(byName(spans, 'SELECT orders').parentSpanId).toBe(ordersServer.spanId)
    expect(byName(spans, 'post /graphql').parentSpanId).toBe(callSpanId)
    expect(byName(spans, 'post /graphql').attributes['graphql.operation.name']).toBe('Prices')
    for (const span of spans) expect(span.traceId).toBe(traceId)

    const summaries = await getJson<{
      traces: { traceId: string; spanCount: number; rootService: string; services: unknown[] }[]
    }>(viewer, '/api/v1/traces?service=catalog')
    expect(summaries.body.traces).toEqual([
      expect.objectContaining({ traceId, spanCount: 5, rootService: 'gateway', rootName: 'GET /orders/:id' }),
    ])

    const deps = await getJson<{ edges: unknown[]; nodes: unknown[] }>(viewer, '/api/v1/dependencies?lookback=1h')
    expect(deps.body.edges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          parent: 'gateway',
          child: 'orders',
          childKind: 'service',
          callCount: 1,
          errorCount: 0,
        }),
        expect.objectContaining({
          parent: 'orders',
          child: 'catalog',
          childKind: 'service',
          callCount: 1,
          errorCount: 0,
        }),
        expect.objectContaining({
          parent: 'orders',
          child: 'postgresql',
          childKind: 'database',
          callCount: 1,
          errorCount: 0,
        }),
      ]),
    )
    expect(deps.body.nodes).toEqual(expect.arrayContaining([{ name: 'postgresql', kind: 'database' }]))

    const jaeger = await getJson<{ data: { spans: unknown[]; processes: Record<string, { serviceName: string }> }[] }>(
      viewer,
      `/api/traces/${traceId}`,
    )
    expect(jaeger.body.data[0]!.spans).toHaveLength(5)
    expect(
      Object.values(jaeger.body.data[0]!.processes)
        .map((p) => p.serviceName)
        .sort(),
    ).toEqual(['catalog', 'gateway', 'orders'])
  })
})

describe('every exporter keeps the span fields', () => {
  async function otelRoundTrip(service: string, exporter: SpanExporter): Promise<ApiSpan> {
    const provider = otelProvider(service, exporter)
    const span = provider.getTracer('roundtrip', '1.2.3').startSpan('work', {
      kind: otel.SpanKind.PRODUCER,
      attributes: { 'a.string': 'text', 'a.int': 42, 'a.double': 1.5, 'a.bool': true, 'a.list': ['x', 'y'] },
      links: [
        { context: { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 }, attributes: { why: 'batch' } },
      ],
    })
    span.addEvent('checkpoint', { step: 2 })
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: 'it broke' })
    const traceId = span.spanContext().traceId
    span.end()
    await provider.forceFlush()
    await provider.shutdown()
    const [stored] = await getTrace(viewer, traceId)
    return stored!
  }

  const cases: [string, () => SpanExporter][] = [
    [
      'OTel OTLP/HTTP protobuf',
      () => new OtelProtoExporter({ url: `http://127.0.0.1:${viewer.ports.otlpHttp}/v1/traces` }),
    ],
    ['OTel OTLP/HTTP JSON', () => new OtelJsonExporter({ url: `http://127.0.0.1:${viewer.ports.otlpHttp}/v1/traces` })],
    [
      'OTel OTLP/HTTP protobuf, gzip',
      () =>
        new OtelProtoExporter({
          url: `http://127.0.0.1:${viewer.ports.otlpHttp}/v1/traces`,
          compression: 'gzip' as never,
        }),
    ],
    ['OTel OTLP/gRPC', () => new OtelGrpcExporter({ url: `http://127.0.0.1:${viewer.ports.otlpGrpc}` })],
  ]
  for (const [name, make] of cases) {
    it(name, async () => {
      const span = await otelRoundTrip(name, make())
      expect(span).toMatchObject({
        service: name,
        name: 'work',
        kind: 'producer',
        error: true,
        status: { code: 'ERROR', message: 'it broke' },
        attributes: { 'a.string': 'text', 'a.int': 42, 'a.double': 1.5, 'a.bool': true, 'a.list': ['x', 'y'] },
        events: [{ name: 'checkpoint', attributes: { step: 2 } }],
        links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { why: 'batch' } }],
        scope: { name: 'roundtrip', version: '1.2.3' },
      })
      expect(span.resource['service.name']).toBe(name)
      expect(span.durationUs).toBeGreaterThanOrEqual(0)
      expect(Math.abs(span.startUs / 1000 - Date.now())).toBeLessThan(600_000)
    })
  }

  it('Threadline OTLP/JSON (its encoder, posted as its exporter would)', async () => {
    let traceId = ''
    trace('json work', (span) => {
      span.setAttributes({ 'a.int': 7, 'a.list': [1, 2] })
      span.addEvent('hello', { n: 1 })
      traceId = span.spanContext().traceId
    })
    await forceFlush()
    const spans = memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
    // the protobuf export already stored it: delete nothing, just check JSON is accepted and de-duplicated
    const response = await fetch(`http://127.0.0.1:${viewer.ports.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: encodeTraceRequestJson(spans),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({})
    const stored = await getTrace(viewer, traceId)
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({
      service: 'gateway',
      name: 'json work',
      attributes: { 'a.int': 7, 'a.list': [1, 2] },
      events: [{ name: 'hello', attributes: { n: 1 } }],
    })
    expect(viewer.store.stats().duplicateSpans).toBeGreaterThanOrEqual(1)
  })
})

describe("Threadline's exporters, each into a fresh viewer", () => {
  const cases: [string, (v: Viewer) => ThreadlineExporter, string][] = [
    [
      'OtlpExporter http/protobuf',
      (v) => new OtlpExporter({ url: v.urls.otlpHttp, protocol: 'http/protobuf' }),
      'otlp',
    ],
    [
      'OtlpExporter http/json + gzip',
      (v) => new OtlpExporter({ url: v.urls.otlpHttp, protocol: 'http/json', compression: 'gzip' }),
      'otlp',
    ],
    ['ZipkinExporter', (v) => new ZipkinExporter({ endpoint: v.urls.zipkin }), 'zipkin'],
  ]
  for (const [name, make, wire] of cases) {
    it(name, async () => {
      let traceId = ''
      trace(
        'parent',
        (parent) => {
          traceId = parent.spanContext().traceId
          trace('child', (child) => child.setAttributes({ 'db.system.name': 'postgresql', rows: 3 }), {
            kind: SpanKind.CLIENT,
          })
        },
        { kind: SpanKind.SERVER },
      )
      await forceFlush()
      const spans = memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
      const target = await startTestViewer()
      try {
        const exporter = make(target)
        const result = await exporter.export(spans, new AbortController().signal)
        expect(result).toMatchObject({ ok: true })
        await exporter.shutdown()
        const stored = await getTrace(target, traceId)
        expect(stored.map((s) => s.name).sort()).toEqual(['child', 'parent'])
        const parent = byName(stored, 'parent')
        expect(byName(stored, 'child')).toMatchObject({
          parentSpanId: parent.spanId,
          service: 'gateway',
          kind: 'client',
          attributes: { 'db.system.name': 'postgresql', rows: wire === 'zipkin' ? '3' : 3 },
        })
        expect(target.store.dependencies(0, Number.MAX_SAFE_INTEGER)).toMatchObject([
          { parent: 'gateway', child: 'postgresql', childKind: 'database', callCount: 1, errorCount: 0 },
        ])
      } finally {
        await target.close()
      }
    })
  }
})
