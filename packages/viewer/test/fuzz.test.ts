/**
 * Random and mutated OTLP (protobuf, JSON) and Zipkin payloads: decoders never throw, the HTTP
 * listeners answer every one with 2xx or 4xx, and whatever was stored can be searched, fetched and
 * rendered as Jaeger JSON. Seeded, so a failure replays; bounded loops.
 */
import { connect } from 'node:http2'
import * as otel from '@opentelemetry/api'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toJaegerTrace } from '../src/api/jaeger.js'
import { MemoryStore, type Viewer } from '../src/index.js'
import { decodeOtlp } from '../src/ingest/otlp.js'
import { decodeZipkinJson } from '../src/ingest/zipkin.js'
import { hex, random, startTestViewer } from './viewer.js'

const rand = random(0x7ace)
let protoSeed: Buffer
let jsonSeed: string
let zipkinSeed: string

beforeAll(async () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'fuzz', 'host.name': 'h' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  const tracer = provider.getTracer('fuzz', '1.0.0')
  for (let i = 0; i < 4; i++) {
    const parent = tracer.startSpan(`root ${i}`, {
      kind: otel.SpanKind.SERVER,
      attributes: { i, s: 'x', b: true, d: 1.5, l: ['a', 'b'] },
    })
    const ctx = otel.trace.setSpan(otel.ROOT_CONTEXT, parent)
    const child = tracer.startSpan(
      'child',
      { kind: otel.SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } },
      ctx,
    )
    child.addEvent('e', { k: 1 })
    child.setStatus({ code: otel.SpanStatusCode.ERROR, message: 'bad' })
    child.end()
    parent.end()
  }
  const spans = exporter.getFinishedSpans()
  protoSeed = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)
  jsonSeed = Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8')
  const t = Date.now() * 1000
  zipkinSeed = JSON.stringify(
    Array.from({ length: 4 }, (_, i) => ({
      traceId: hex(rand, 32),
      id: hex(rand, 16),
      parentId: i ? hex(rand, 16) : undefined,
      name: `z${i}`,
      kind: ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'][i],
      timestamp: t,
      duration: 10 + i,
      localEndpoint: { serviceName: 'zfuzz', ipv4: '1.2.3.4' },
      remoteEndpoint: { serviceName: 'peer', port: 80 },
      tags: { a: 'b', error: i === 2 ? 'x' : undefined },
      annotations: [{ timestamp: t, value: 'v' }],
      shared: i === 1,
    })),
  )
})

function mutateBytes(seed: Buffer): Buffer {
  const out = Buffer.from(seed)
  const kind = Math.floor(rand() * 5)
  const at = Math.floor(rand() * out.length)
  switch (kind) {
    case 0: // flip bits
      for (let i = 0; i < 1 + Math.floor(rand() * 8); i++) {
        const p = Math.floor(rand() * out.length)
        out[p] = out[p]! ^ (1 << Math.floor(rand() * 8))
      }
      return out
    case 1: // truncate
      return out.subarray(0, at)
    case 2: // insert random bytes
      return Buffer.concat([
        out.subarray(0, at),
        Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 16) }, () => Math.floor(rand() * 256))),
        out.subarray(at),
      ])
    case 3: // overwrite a run with 0xff (huge varints and lengths)
      out.fill(0xff, at, Math.min(out.length, at + 1 + Math.floor(rand() * 10)))
      return out
    default: // pure noise
      return Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)))
  }
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  -1e-308,
  '',
  'x'.repeat(300),
  [],
  {},
  [[[]]],
  { a: { b: {} } },
  '0'.repeat(32),
  'ffffffffffffffff',
  '-5',
  '18446744073709551616',
  1.5,
  Number.MAX_SAFE_INTEGER,
]

function mutateJson(seed: string): string {
  const doc = JSON.parse(seed) as unknown
  const leaves: [Record<string, unknown> | unknown[], string | number][] = []
  const walk = (node: unknown) => {
    if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        const k = Array.isArray(node) ? Number(key) : key
        leaves.push([node as Record<string, unknown>, k])
        walk((node as Record<string | number, unknown>)[k])
      }
    }
  }
  walk(doc)
  for (let n = 0; n < 1 + Math.floor(rand() * 4) && leaves.length; n++) {
    const [parent, key] = leaves[Math.floor(rand() * leaves.length)]!
    const choice = rand()
    if (choice < 0.2 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string]
    else (parent as Record<string | number, unknown>)[key] = ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)]
  }
  const text = JSON.stringify(doc)
  return rand() < 0.1 ? text.slice(0, Math.floor(rand() * text.length)) : text
}

function exercise(store: MemoryStore): void {
  for (const summary of store.search({ limit: 1000 })) {
    const spans = store.trace(summary.traceId)!
    JSON.stringify(toJaegerTrace(summary.traceId, spans))
    JSON.stringify(spans)
  }
  for (const service of store.services()) store.operations(service)
  store.dependencies(0, Number.MAX_SAFE_INTEGER)
  store.rows({ startUs: 0, endUs: Number.MAX_SAFE_INTEGER })
}

describe('decoders never throw on mutated input', () => {
  it('OTLP protobuf, OTLP JSON and Zipkin JSON: 3 × 3000 cases', () => {
    const store = new MemoryStore({ maxSpans: 5000 })
    let accepted = 0
    for (let i = 0; i < 3000; i++) {
      for (const result of [
        decodeOtlp(mutateBytes(protoSeed), 'protobuf'),
        decodeOtlp(Buffer.from(mutateJson(jsonSeed)), 'json'),
        decodeZipkinJson(mutateJson(zipkinSeed)),
      ]) {
        if (typeof result === 'string') continue
        accepted += result.spans.length
        store.addNow(result.spans)
      }
    }
    expect(accepted).toBeGreaterThan(1000)
    exercise(store)
  })
})

describe('listeners answer every mutated payload with 2xx or 4xx', () => {
  let viewer: Viewer
  beforeAll(async () => {
    viewer = await startTestViewer({ maxSpans: 10_000 })
  })
  afterAll(() => viewer?.close())

  it('300 cases per format over HTTP, then the API still serves all stored data', async () => {
    const statuses = new Map<number, number>()
    const send = async (port: number, path: string, body: Buffer | string, type: string) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      })
      await r.arrayBuffer()
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      expect(r.status, `${path} ${type}`).toBeLessThan(500)
    }
    for (let i = 0; i < 300; i++) {
      await send(viewer.ports.otlpHttp, '/v1/traces', mutateBytes(protoSeed), 'application/x-protobuf')
      await send(viewer.ports.otlpHttp, '/v1/traces', mutateJson(jsonSeed), 'application/json')
      await send(viewer.ports.zipkin, '/api/v2/spans', mutateJson(zipkinSeed), 'application/json')
    }
    expect(statuses.get(200)).toBeGreaterThan(10)
    expect(statuses.get(400)).toBeGreaterThan(10)
    const list = await fetch(`http://127.0.0.1:${viewer.ports.ui}/api/v1/traces?limit=1000`)
    const { traces } = (await list.json()) as { traces: { traceId: string }[] }
    expect(traces.length).toBeGreaterThan(0)
    for (const { traceId } of traces) {
      for (const path of [`/api/v1/traces/${traceId}`, `/api/traces/${traceId}`]) {
        expect((await fetch(`http://127.0.0.1:${viewer.ports.ui}${path}`)).status).toBe(200)
      }
    }
    for (const path of [
      '/api/v1/dependencies',
      '/api/v1/red?lookback=100000h',
      '/api/services',
      '/api/traces?service=fuzz&lookback=100000h',
    ]) {
      expect((await fetch(`http://127.0.0.1:${viewer.ports.ui}${path}`)).status, path).toBe(200)
    }
  })

  it('150 mutated OTLP/gRPC messages get a gRPC status, never a dropped connection', async () => {
    const client = connect(`http://127.0.0.1:${viewer.ports.otlpGrpc}`)
    try {
      const seen = new Set<string>()
      for (let i = 0; i < 150; i++) {
        const message = mutateBytes(protoSeed)
        const prefix = Buffer.alloc(5)
        prefix.writeUInt32BE(message.length, 1)
        const status = await new Promise<string>((resolve, reject) => {
          const stream = client.request({
            ':method': 'POST',
            ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
            'content-type': 'application/grpc',
          })
          let code: string | undefined
          stream.on('response', (h) => {
            code ??= h['grpc-status'] as string | undefined
          })
          stream.on('trailers', (h) => {
            code = h['grpc-status'] as string
          })
          stream.on('data', () => {})
          stream.on('end', () => resolve(code ?? 'none'))
          stream.on('error', reject)
          stream.end(Buffer.concat([prefix, message]))
        })
        seen.add(status)
        expect(['0', '3', '8']).toContain(status)
      }
      expect(seen.has('3')).toBe(true)
    } finally {
      client.close()
    }
  })
})
