import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { activeSpan, trace } from '../api.js'
import { MemoryExporter } from '../export/memory.js'
import { init, shutdown } from '../sdk.js'
import { type ReadableSpan, SpanKind, SpanStatusCode } from '../span.js'
import { getTracer } from '../tracer.js'
import {
  isIgnoredPath,
  type ServerSpanHandle,
  type ServerSpanOptions,
  serverRequestFrom,
  startServerSpan,
} from './server.js'

const exporter = new MemoryExporter()
const tracer = getTracer('server-test')
let server: Server
let base: string
let options: ServerSpanOptions = { tracer }
const pending: Array<() => void> = []

/** Waits (bounded) until `n` spans were exported; spans end on 'finish', after the client got its response. */
async function spans(n: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 200 && exporter.getFinishedSpans().length < n; i++) await new Promise((r) => setTimeout(r, 5))
  return exporter.getFinishedSpans()
}

beforeAll(async () => {
  init({ serviceName: 'server-test', exporter, batch: false, propagators: ['tracecontext'] })
  server = createServer((req, res) => {
    const handle = startServerSpan(req, res, options)
    handle.run(() => {
      expect(activeSpan()).toBe(handle.span)
      if (req.url?.startsWith('/users/')) handle.setRoute('/users/:id')
      if (req.url === '/boom') {
        handle.recordError(new TypeError('kaput'))
        res.statusCode = 500
      }
      if (req.url === '/hang') {
        pending.push(() => res.end())
        return
      }
      res.setHeader('x-reply', 'yes')
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(() => {
  exporter.reset()
  options = { tracer }
  for (const f of pending.splice(0)) f()
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  await shutdown()
})

describe('startServerSpan', () => {
  it('records a named SERVER span with request attributes, child of the incoming traceparent', async () => {
    const res = await fetch(`${base}/users/42?token=s3cret&x=1`, {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'user-agent': 'probe/1' },
    })
    expect(await res.text()).toBe('ok')
    const [span] = await spans(1)
    expect(span?.name).toBe('GET /users/:id')
    expect(span?.kind).toBe(SpanKind.SERVER)
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331')
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'url.path': '/users/42',
      'url.query': 'token=REDACTED&x=1',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(base).port),
      'client.address': '127.0.0.1',
      'user_agent.original': 'probe/1',
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    })
    expect(span?.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('names a request without a route by its method only, and unknown methods _OTHER', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/raw/path`, { method: 'PURGE' }, (res) => res.resume().on('end', resolve))
      req.on('error', reject).end()
    })
    const [span] = await spans(1)
    expect(span?.name).toBe('HTTP')
    expect(span?.attributes['http.request.method']).toBe('_OTHER')
    expect(span?.attributes['http.request.method_original']).toBe('PURGE')
    expect(span?.attributes['http.route']).toBeUndefined()
  })

  it('marks 5xx as an error and records the exception given by the adapter', async () => {
    await (await fetch(`${base}/boom`)).text()
    const [span] = await spans(1)
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'kaput' })
    expect(span?.attributes['error.type']).toBe('TypeError')
    expect(span?.events[0]?.attributes['exception.stacktrace']).toContain('kaput')
  })

  it('sets error.type on a request whose client went away, and ends the span once', async () => {
    const controller = new AbortController()
    const done = fetch(`${base}/hang`, { signal: controller.signal }).catch(() => 'aborted')
    for (let i = 0; i < 200 && pending.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    controller.abort()
    expect(await done).toBe('aborted')
    const [span] = await spans(1)
    expect(span?.attributes['error.type']).toBe('aborted')
    expect(span?.status.code).toBe(SpanStatusCode.ERROR)
    expect(span?.attributes['http.response.status_code']).toBeUndefined()
    expect(exporter.getFinishedSpans()).toHaveLength(1)
  })

  it('captures only allow-listed headers, proxy headers only when trusted', async () => {
    options = { tracer, trustProxy: true, captureHeaders: { request: ['X-Tenant'], response: ['x-reply'] } }
    await (
      await fetch(`${base}/users/1`, {
        headers: {
          'x-tenant': 'acme',
          authorization: 'Bearer no',
          'x-forwarded-for': '203.0.113.9, 10.0.0.1',
          'x-forwarded-proto': 'https',
        },
      })
    ).text()
    const [span] = await spans(1)
    expect(span?.attributes['http.request.header.x-tenant']).toEqual(['acme'])
    expect(span?.attributes['http.response.header.x-reply']).toEqual(['yes'])
    expect(Object.keys(span?.attributes ?? {}).filter((k) => k.includes('authorization'))).toEqual([])
    expect(span?.attributes['client.address']).toBe('203.0.113.9')
    expect(span?.attributes['url.scheme']).toBe('https')
  })

  it('keeps a not-sampled request unrecorded but propagates its context', async () => {
    await (
      await fetch(`${base}/users/1`, {
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' },
      })
    ).text()
    await new Promise((r) => setTimeout(r, 20))
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })

  it('matches ignored paths without the query', () => {
    expect(isIgnoredPath('/health?x=1', ['/health'])).toBe(true)
    expect(isIgnoredPath('/metrics/a', [/^\/metrics/])).toBe(true)
    expect(isIgnoredPath('/users', ['/health'])).toBe(false)
  })
})

describe('serverRequestFrom', () => {
  it('finds the request’s handle from code deeper in the request, not outside it or when unsampled', async () => {
    const seen: Array<{ handle: ServerSpanHandle; found: unknown; nested: unknown }> = []
    const local = createServer((req, res) => {
      const handle = startServerSpan(req, res, { tracer })
      handle.run(() => {
        // a child span is active here, as in a GraphQL resolver or a Nest handler
        trace('child', async () => {
          await new Promise((r) => setImmediate(r))
          const found = serverRequestFrom()
          found?.onEnd((span) => span.updateName('POST /graphql query GetUser'))
          seen.push({ handle, found, nested: serverRequestFrom(handle.context) })
          res.end('ok')
        })
      })
    })
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(local.address() as AddressInfo).port}/graphql`
    try {
      await (await fetch(url, { method: 'POST' })).text()
      const server = (await spans(2)).find((s) => s.kind === SpanKind.SERVER)
      expect(seen[0]?.found).toBe(seen[0]?.handle)
      expect(seen[0]?.nested).toBe(seen[0]?.handle)
      expect(server?.name).toBe('POST /graphql query GetUser')
      expect(serverRequestFrom()).toBeUndefined()

      await (
        await fetch(url, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } })
      ).text()
      expect(seen[1]?.handle.recording).toBe(false)
      expect(seen[1]?.found).toBeUndefined()
    } finally {
      local.closeAllConnections()
      await new Promise((r) => local.close(r))
    }
  })
})
