// A jaeger-client service (opentracing API, explicit spans as jaeger-client apps write them) and
// a loopback Jaeger collector (`POST /api/traces`, Thrift binary batches decoded with
// jaeger-client's own IDL through thriftrw).

import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import express from 'express'
import jaeger from 'jaeger-client'
import { listen, type Running, readBody } from './harness.js'

const jaegerEntry = createRequire(import.meta.url).resolve('jaeger-client') // …/jaeger-client/dist/src/index.js
const { Thrift } = createRequire(jaegerEntry)('thriftrw') as {
  Thrift: new (o: { source: string; allowOptionalArguments: boolean }) => ThriftModule
}
interface ThriftModule {
  Batch: { rw: { fromBuffer(b: Buffer): { err?: Error; value: ThriftBatch } } }
}
interface ThriftTag {
  key: string
  vType: string | number
  vStr?: string | null
  vBool?: boolean | null
  vLong?: unknown
}
interface ThriftSpan {
  traceIdLow: unknown
  traceIdHigh: unknown
  spanId: unknown
  parentSpanId: unknown
  operationName: string
  flags: number
  startTime: unknown
  duration: unknown
  tags?: ThriftTag[] | null
}
interface ThriftBatch {
  process: { serviceName: string; tags?: ThriftTag[] | null }
  spans: ThriftSpan[]
}

/** A Jaeger span as received by the collector, ids as hex (trace id 16 hex when its high half is 0). */
export interface JaegerSpan {
  serviceName: string
  traceId: string
  spanId: string
  parentSpanId: string
  operationName: string
  flags: number
  startUs: number
  durationUs: number
  tags: Record<string, string | boolean | number>
}

function hex64(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('hex')
  if (Array.isArray(value)) return Buffer.from(value as number[]).toString('hex')
  throw new Error(`unexpected i64 ${String(value)}`)
}
function num64(value: unknown): number {
  return Number(BigInt(`0x${hex64(value)}`))
}

const jaegerIdl = new Thrift({
  source: readFileSync(join(dirname(jaegerEntry), 'jaeger-idl/thrift/jaeger.thrift'), 'ascii'),
  allowOptionalArguments: true,
})

export async function startJaegerCollector(): Promise<Running & { spans: JaegerSpan[] }> {
  const spans: JaegerSpan[] = []
  const running = await listen(async (req: IncomingMessage, res: ServerResponse) => {
    const decoded = jaegerIdl.Batch.rw.fromBuffer(await readBody(req))
    if (decoded.err) {
      res.writeHead(400).end(String(decoded.err))
      return
    }
    const batch = decoded.value
    for (const s of batch.spans) {
      const high = hex64(s.traceIdHigh)
      const tags: JaegerSpan['tags'] = {}
      for (const t of s.tags ?? []) tags[t.key] = t.vStr ?? t.vBool ?? (t.vLong === undefined ? '' : num64(t.vLong))
      spans.push({
        serviceName: batch.process.serviceName,
        traceId: high === '0000000000000000' ? hex64(s.traceIdLow) : high + hex64(s.traceIdLow),
        spanId: hex64(s.spanId),
        parentSpanId: hex64(s.parentSpanId),
        operationName: s.operationName,
        flags: s.flags,
        startUs: num64(s.startTime),
        durationUs: num64(s.duration),
        tags,
      })
    }
    res.writeHead(202).end()
  })
  return { ...running, spans }
}

export interface JaegerServiceOptions {
  serviceName: string
  collectorUrl: string
  traceId128bit?: boolean
  /** Where `/start` and `/mid` call next (resolved per request). */
  next: (path: '/start' | '/mid', req: express.Request) => string
  /** What `/mid` saw, for assertions on the wire and on baggage. */
  onMid?: (req: express.Request, baggage: Record<string, string | undefined>) => void
}

/**
 * `/start` is a jaeger-client root span (with `tenant` and `note` baggage) that calls `next('/start')`;
 * `/mid` continues the caller's trace and calls `next('/mid')`. Both inject `uber-trace-id` and
 * `uberctx-*` with the tracer's own codec.
 */
export function jaegerService(options: JaegerServiceOptions): { app: express.Express; close(): Promise<void> } {
  const tracer = jaeger.initTracer(
    {
      serviceName: options.serviceName,
      sampler: { type: 'const', param: 1 },
      reporter: { collectorEndpoint: `${options.collectorUrl}/api/traces`, flushIntervalMs: 20 },
    },
    { traceId128bit: options.traceId128bit ?? false, logger: { info() {}, error() {} } },
  )
  const { FORMAT_HTTP_HEADERS, Tags } = jaeger.opentracing
  const app = express()
  app.get(['/start', '/mid'], async (req, res) => {
    const path = req.path as '/start' | '/mid'
    const parent = path === '/mid' ? tracer.extract(FORMAT_HTTP_HEADERS, req.headers) : undefined
    const server = tracer.startSpan(`GET ${path}`, {
      childOf: parent ?? undefined,
      tags: {
        [Tags.SPAN_KIND]: Tags.SPAN_KIND_RPC_SERVER,
        [Tags.HTTP_METHOD]: 'GET',
        [Tags.HTTP_URL]: req.originalUrl,
      },
    })
    if (path === '/start') {
      server.setBaggageItem('tenant', 'acme')
      server.setBaggageItem('note', 'a b,c=d%') // URL-encoded on the wire by jaeger-client
    } else {
      const baggage = { tenant: server.getBaggageItem('tenant'), hop: server.getBaggageItem('hop') }
      options.onMid?.(req, { ...baggage, note: server.getBaggageItem('note') })
    }
    const url = options.next(path, req)
    const client = tracer.startSpan('GET', {
      childOf: server,
      tags: { [Tags.SPAN_KIND]: Tags.SPAN_KIND_RPC_CLIENT, [Tags.HTTP_METHOD]: 'GET', [Tags.HTTP_URL]: url },
    })
    const headers: Record<string, string> = {}
    tracer.inject(client, FORMAT_HTTP_HEADERS, headers)
    try {
      const r = await fetch(url, { headers })
      client.setTag(Tags.HTTP_STATUS_CODE, r.status)
      res.status(r.status).send(await r.text())
    } finally {
      client.finish()
      server.finish()
    }
  })
  return { app, close: () => new Promise<void>((resolve) => tracer.close(() => resolve())) }
}
