import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  contextWithSpan,
  extract,
  getBaggage,
  getTracer,
  type IdGenerator,
  init,
  MemoryExporter,
  type ReadableSpan,
  ROOT_CONTEXT,
  randomIdGenerator,
  SpanKind,
  shutdown,
  withBaggage,
  withContext,
  xrayIdGenerator,
} from '../src/index.js'

// Two real services on 127.0.0.1 in one process: A (called by the test) calls B with fetch or
// http.request; each starts its SERVER span from the incoming headers with the core API.
const tracer = getTracer('cross-service-test')
let serviceA: http.Server
let serviceB: http.Server
let urlA = ''
let urlB = ''
let baggageSeenByB: string | undefined

function serve(name: string, handler: (req: http.IncomingMessage) => Promise<void>): http.Server {
  return http.createServer((req, res) => {
    const parent = extract(req.headers, ROOT_CONTEXT)
    const span = tracer.startSpan(`${name} ${req.method} ${req.url?.split('?')[0]}`, { kind: SpanKind.SERVER }, parent)
    withContext(contextWithSpan(parent, span), async () => {
      try {
        await handler(req)
        res.end('ok')
      } catch (error) {
        res.statusCode = 500
        res.end(String(error))
      } finally {
        span.end()
      }
    })
  })
}

function callWithHttp(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      .on('error', reject)
  })
}

beforeAll(async () => {
  serviceB = serve('B', async () => {
    baggageSeenByB = getBaggage().get('tenant')?.value
  })
  serviceA = serve('A', async (req) => {
    const via = new URL(req.url ?? '/', 'http://x').searchParams.get('via')
    await withBaggage({ tenant: 'acme' }, async () => {
      if (via === 'fetch') await (await fetch(`${urlB}/b`)).text()
      else await callWithHttp(`${urlB}/b`)
    })
  })
  for (const s of [serviceA, serviceB]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  urlA = `http://127.0.0.1:${(serviceA.address() as AddressInfo).port}`
  urlB = `http://127.0.0.1:${(serviceB.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const s of [serviceA, serviceB]) await new Promise<void>((resolve) => s.close(() => resolve()))
})
afterEach(() => shutdown())

const configs: Array<[string, string[], IdGenerator]> = [
  ['tracecontext,baggage (default)', ['tracecontext', 'baggage'], randomIdGenerator],
  ['b3 (single header)', ['b3', 'baggage'], randomIdGenerator],
  ['b3multi', ['b3multi', 'baggage'], randomIdGenerator],
  ['jaeger', ['jaeger'], randomIdGenerator],
  ['xray (with X-Ray trace ids)', ['xray', 'baggage'], xrayIdGenerator],
  [
    'tracecontext,b3,jaeger,xray,baggage together',
    ['tracecontext', 'b3', 'jaeger', 'xray', 'baggage'],
    randomIdGenerator,
  ],
]

describe.each(configs)('A → B with %s', (_, propagators, idGenerator) => {
  it.each(['fetch', 'http.request'])('via %s: B’s SERVER span is a child of A’s CLIENT span', async (via) => {
    const exporter = new MemoryExporter()
    init({ serviceName: 'cross', exporter, batch: false, propagators, idGenerator })
    baggageSeenByB = undefined
    const res = await fetch(`${urlA}/a?via=${encodeURIComponent(via)}`)
    expect(await res.text()).toBe('ok')
    const spans = exporter.getFinishedSpans()
    const a = one(spans, 'A GET /a')
    const client = one(spans, 'GET')
    const b = one(spans, 'B GET /b')
    expect(a.parentSpanContext).toBeUndefined() // the test's own fetch has no active span: no CLIENT span, no header
    expect(client.kind).toBe(SpanKind.CLIENT)
    expect(client.parentSpanContext?.spanId).toBe(a.spanContext().spanId)
    expect(b.parentSpanContext?.spanId).toBe(client.spanContext().spanId)
    expect(b.parentSpanContext?.isRemote).toBe(true)
    expect(b.spanContext().traceId).toBe(a.spanContext().traceId)
    expect(b.spanContext().traceFlags & 1).toBe(1)
    expect(baggageSeenByB).toBe('acme')
    if (idGenerator === xrayIdGenerator) {
      const epoch = Number.parseInt(a.spanContext().traceId.slice(0, 8), 16)
      expect(Math.abs(epoch - Date.now() / 1000)).toBeLessThan(3600)
    }
  })
})

function one(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name)
  expect(found, `spans named ${name} in ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1)
  return found[0] as ReadableSpan
}
