import diagnosticsChannel from 'node:diagnostics_channel'
import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { suppressTracing } from '../context.js'
import { MemoryExporter } from '../export/memory.js'
import { OtlpExporter } from '../export/otlp.js'
import { alwaysOff } from '../sampler.js'
import { init, shutdown } from '../sdk.js'
import { type ReadableSpan, SpanKind, SpanStatusCode } from '../span.js'
import { getTracer } from '../tracer.js'
import { instrumentOutgoingHttp } from './client.js'

const tracer = getTracer('client-test')
let server: http.Server
let base = ''
let seen: IncomingHttpHeaders[] = []

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers)
    const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200)
    res.statusCode = status
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

let exporter: MemoryExporter
afterEach(async () => {
  await shutdown()
  seen = []
})
function start(options: Parameters<typeof init>[0] = {}) {
  exporter = new MemoryExporter()
  init({ serviceName: 'client-test', exporter, batch: false, ...options })
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

async function inParent<R>(fn: () => Promise<R>): Promise<{ result: R; parent: ReadableSpan }> {
  const result = await tracer.startActiveSpan('parent', async (span) => {
    try {
      return await fn()
    } finally {
      span.end()
    }
  })
  return { result, parent: exporter.getByName('parent') }
}

const clients: Array<[string, (url: string, headers?: Record<string, string>) => Promise<number>]> = [
  [
    'fetch',
    async (url, headers) => {
      const res = await fetch(url, { headers })
      await res.text()
      return res.status
    },
  ],
  ['http.request', httpGet],
]

describe.each(clients)('outgoing %s', (_, get) => {
  it('creates a CLIENT span, child of the active span, and injects its context', async () => {
    start()
    const { parent } = await inParent(() => get(`${base}/users/1?token=secret&q=1`))
    const client = exporter.getByName('GET')
    expect(client.kind).toBe(SpanKind.CLIENT)
    expect(client.parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
    expect(client.spanContext().traceId).toBe(parent.spanContext().traceId)
    expect(client.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${base}/users/1?token=REDACTED&q=1`,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(base).port),
      'http.response.status_code': 200,
    })
    expect(client.status.code).toBe(SpanStatusCode.UNSET)
    const sc = client.spanContext()
    expect(seen[0]?.traceparent).toBe(`00-${sc.traceId}-${sc.spanId}-03`)
  })

  it('marks 4xx/5xx responses as errors with error.type', async () => {
    start()
    await inParent(() => get(`${base}/x?status=503`))
    const client = exporter.getByName('GET')
    expect(client.attributes['http.response.status_code']).toBe(503)
    expect(client.attributes['error.type']).toBe('503')
    expect(client.status.code).toBe(SpanStatusCode.ERROR)
  })

  it('redacts credentials in url.full', async () => {
    start()
    const url = base.replace('http://', 'http://user:pw@')
    if (get === httpGet) await inParent(() => get(url))
    else {
      // fetch refuses URLs with credentials; send them as a header instead
      await inParent(() => get(`${base}/?password=hunter2`))
    }
    const full = String(exporter.getByName('GET').attributes['url.full'])
    expect(full).not.toContain('pw')
    expect(full).not.toContain('hunter2')
  })

  it('records a connection error', async () => {
    start()
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    await inParent(() => get(`http://127.0.0.1:${port}/`).catch(() => 0))
    const client = exporter.getByName('GET')
    expect(client.status.code).toBe(SpanStatusCode.ERROR)
    expect(client.attributes['error.type']).toBeTruthy()
    expect(client.events.some((e) => e.name === 'exception')).toBe(true)
  })

  it('makes no span and sends no traceparent without an active span', async () => {
    start()
    await get(`${base}/`)
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    expect(seen[0]?.traceparent).toBeUndefined()
  })

  it('never traces the SDK’s own requests (suppressTracing)', async () => {
    start()
    await inParent(() => suppressTracing(() => get(`${base}/`)))
    expect(exporter.findByName('GET')).toHaveLength(0)
    expect(seen[0]?.traceparent).toBeUndefined()
  })

  it('propagates an unsampled decision: no recorded span, but the header goes out with sampled=0', async () => {
    start({ sampler: alwaysOff })
    await tracer.startActiveSpan('parent', async (span) => {
      await get(`${base}/`)
      span.end()
    })
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    expect(seen[0]?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/)
  })

  it('leaves a traceparent the caller set alone', async () => {
    start()
    const mine = '00-11111111111111111111111111111111-2222222222222222-01'
    await inParent(() => get(`${base}/`, { traceparent: mine }))
    expect(seen[0]?.traceparent).toBe(mine)
  })

  it('is off with init({ instrument }) and after shutdown()', async () => {
    start({ instrument: { fetch: false, http: false } })
    await inParent(() => get(`${base}/`))
    expect(exporter.findByName('GET')).toHaveLength(0)
    expect(seen[0]?.traceparent).toBeUndefined()
    await shutdown()
    start()
    await shutdown()
    await tracer.startActiveSpan('after', async (span) => {
      await get(`${base}/`)
      span.end()
    })
    expect(seen[1]?.traceparent).toBeUndefined()
    for (const name of ['undici:request:create', 'http.client.request.created', 'http.client.response.finish']) {
      expect(diagnosticsChannel.channel(name).hasSubscribers).toBe(false)
    }
  })

  it('with rootSpans: true, a request outside any span gets a root CLIENT span', async () => {
    start({ instrument: { fetch: false, http: false } })
    const undo = instrumentOutgoingHttp({ rootSpans: true })
    try {
      await get(`${base}/`)
    } finally {
      undo()
    }
    const client = exporter.getByName('GET')
    expect(client.parentSpanContext).toBeUndefined()
    expect(seen[0]?.traceparent).toContain(client.spanContext().spanId)
  })
})

describe('outgoing requests with other propagators', () => {
  it('injects every configured propagator’s headers (b3 + xray + baggage)', async () => {
    start({ propagators: ['b3', 'xray', 'baggage'] })
    const { withBaggage } = await import('../propagation/baggage.js')
    await inParent(() => withBaggage({ tenant: 'acme' }, () => fetch(`${base}/`).then((r) => r.text())))
    const sc = exporter.getByName('GET').spanContext()
    expect(seen[0]?.b3).toBe(`${sc.traceId}-${sc.spanId}-1`)
    expect(seen[0]?.['x-amzn-trace-id']).toContain(`Parent=${sc.spanId}`)
    expect(seen[0]?.baggage).toBe('tenant=acme')
    expect(seen[0]?.traceparent).toBeUndefined()
  })

  it('uses a method name for unknown methods per semconv', async () => {
    start()
    await inParent(() => fetch(`${base}/`, { method: 'PURGE' }).then((r) => r.text()))
    const client = exporter.getByName('HTTP')
    expect(client.attributes['http.request.method']).toBe('_OTHER')
    expect(client.attributes['http.request.method_original']).toBe('PURGE')
  })
})

describe('the SDK’s own export requests', () => {
  it('are never traced: an OTLP export from inside a span makes no span and carries no headers', async () => {
    const received: IncomingHttpHeaders[] = []
    const collector = http.createServer((req, res) => {
      received.push(req.headers)
      req.resume()
      req.on('end', () => res.end())
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`
    try {
      const memory = new MemoryExporter()
      exporter = memory
      // batch: false exports inside span.end(), i.e. while the user's span is still active
      init({
        serviceName: 'client-test',
        exporter: [memory, new OtlpExporter({ url, protocol: 'http/json' })],
        batch: false,
      })
      await tracer.startActiveSpan('parent', async (parent) => {
        await tracer.startActiveSpan('child', async (child) => {
          await fetch(`${base}/`).then((r) => r.text())
          child.end()
        })
        parent.end()
      })
      await shutdown()
      expect(received.length).toBeGreaterThan(0)
      for (const h of received) expect(h.traceparent).toBeUndefined()
      expect(
        memory
          .getFinishedSpans()
          .map((s) => s.name)
          .sort(),
      ).toEqual(['GET', 'child', 'parent'])
    } finally {
      await new Promise<void>((resolve) => collector.close(() => resolve()))
    }
  })
})

describe('concurrent requests', () => {
  it('each gets its own span and headers, even when they share baggage', async () => {
    start({ propagators: ['baggage', 'tracecontext'] })
    const { withBaggage } = await import('../propagation/baggage.js')
    await inParent(() =>
      withBaggage({ tenant: 'acme' }, () =>
        Promise.all([
          ...Array.from({ length: 5 }, () => fetch(`${base}/`).then((r) => r.text())),
          ...Array.from({ length: 5 }, () => httpGet(`${base}/`)),
        ]),
      ),
    )
    const clients = exporter.findByName('GET')
    expect(clients).toHaveLength(10)
    const sent = new Set(seen.map((h) => h.traceparent))
    expect(sent.size).toBe(10)
    for (const c of clients) expect(sent.has(`00-${c.spanContext().traceId}-${c.spanContext().spanId}-03`)).toBe(true)
  })

  it('unsampled: every request still carries the (unsampled) context', async () => {
    start({ sampler: alwaysOff })
    await tracer.startActiveSpan('parent', async (span) => {
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? httpGet(`${base}/`) : fetch(`${base}/`).then((r) => r.text()))),
      )
      span.end()
    })
    expect(seen).toHaveLength(6)
    for (const h of seen) expect(h.traceparent).toMatch(/-02$/)
  })
})

describe('two undici copies publishing for one request', () => {
  it('creates one span and injects once', async () => {
    start()
    const create = diagnosticsChannel.channel('undici:request:create')
    let added = 0
    // A second copy publishes its own request object carrying the headers the first one has.
    const echo = (message: unknown) => {
      const request = (message as { request: { headers: string[]; origin: string; path: string; copy?: boolean } })
        .request
      if (request.copy) return
      create.publish({
        request: {
          copy: true,
          method: 'GET',
          origin: request.origin,
          path: request.path,
          headers: [...request.headers],
          addHeader: () => added++,
        },
      })
    }
    diagnosticsChannel.subscribe('undici:request:create', echo)
    try {
      await inParent(() => fetch(`${base}/`).then((r) => r.text()))
    } finally {
      diagnosticsChannel.unsubscribe('undici:request:create', echo)
    }
    expect(exporter.findByName('GET')).toHaveLength(1)
    expect(added).toBe(0)
  })
})
