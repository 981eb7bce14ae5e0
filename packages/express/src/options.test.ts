import { getTracer } from '@threadline/core'
import type { Express as App } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { majors } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { type ThreadlineExpressOptions, threadline } from './index.js'

useTracing()

describe.each(majors)('%s: options', (_label, express) => {
  let app: Running | undefined
  afterEach(() => app?.close())

  async function start(options: ThreadlineExpressOptions, configure?: (app: App) => void): Promise<Running> {
    const server = express()
    configure?.(server)
    server.use(threadline(options))
    server.get('/health', (_req, res) => {
      // a health check that pings a dependency: inside an ignored request this starts no trace
      getTracer('health').startSpan('ping').end()
      res.send('ok')
    })
    server.get('/users/:id', (_req, res) => {
      res.setHeader('x-request-id', 'r-1')
      res.setHeader('set-cookie', 'sid=secret')
      res.json({ id: 1 })
    })
    app = await listen(server)
    return app
  }

  it('ignore: listed paths and a predicate get no span, other requests do', async () => {
    const { url } = await start({ ignore: ['/health'] })
    await (await fetch(`${url}/health?probe=1`)).text()
    await (await fetch(`${url}/users/1`)).text()
    expect((await serverSpan()).name).toBe('GET /users/:id')
    // no server span and no orphan trace from the ignored request's own work
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET /users/:id'])
    await app?.close()
    exporter.reset()
    const second = await start({ ignore: (req) => req.headers['user-agent'] === 'kube-probe/1.30' })
    await (await fetch(`${second.url}/users/2`, { headers: { 'user-agent': 'kube-probe/1.30' } })).text()
    await (await fetch(`${second.url}/health`)).text()
    expect((await serverSpan()).name).toBe('GET /health')
  })

  it('requestHook and responseHook add attributes; a throwing hook does not break the request', async () => {
    const { url } = await start({
      requestHook: (span, req) => {
        span.setAttribute('app.tenant', String(req.headers['x-tenant']))
        throw new Error('hook bug')
      },
      responseHook: (span, _req, res) => {
        span.setAttribute('app.cache', String(res.getHeader('x-request-id')))
      },
    })
    const res = await fetch(`${url}/users/1`, { headers: { 'x-tenant': 'acme' } })
    expect(res.status).toBe(200)
    await res.text()
    const span = await serverSpan()
    expect(span.attributes['app.tenant']).toBe('acme')
    expect(span.attributes['app.cache']).toBe('r-1')
  })

  it('captureHeaders records allow-listed headers and never credentials unless named', async () => {
    const { url } = await start({ captureHeaders: { request: ['X-Tenant'], response: ['x-request-id'] } })
    await (
      await fetch(`${url}/users/1`, {
        headers: { 'x-tenant': 'acme', authorization: 'Bearer abc', cookie: 'sid=1' },
      })
    ).text()
    const span = await serverSpan()
    expect(span.attributes['http.request.header.x-tenant']).toEqual(['acme'])
    expect(span.attributes['http.response.header.x-request-id']).toEqual(['r-1'])
    const recorded = JSON.stringify(span.attributes)
    expect(recorded).not.toContain('Bearer')
    expect(recorded).not.toContain('sid=')
  })

  it('captureHeaders records authorization and set-cookie when named explicitly', async () => {
    const { url } = await start({ captureHeaders: { request: ['authorization'], response: ['set-cookie'] } })
    await (await fetch(`${url}/users/1`, { headers: { authorization: 'Bearer abc' } })).text()
    const span = await serverSpan()
    expect(span.attributes['http.request.header.authorization']).toEqual(['Bearer abc'])
    expect(span.attributes['http.response.header.set-cookie']).toEqual(['sid=secret'])
  })

  it('spanName overrides the name with the route at hand', async () => {
    const { url } = await start({ spanName: (req, route) => `${req.method} ${route ?? '?'} (api)` })
    await (await fetch(`${url}/users/7`)).text()
    const span = await serverSpan()
    expect(span.name).toBe('GET /users/:id (api)')
    expect(span.attributes['http.route']).toBe('/users/:id')
  })

  it("client.address follows X-Forwarded-For only when the app sets 'trust proxy'", async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7, 10.0.0.2', 'x-forwarded-proto': 'https' }
    const { url } = await start({})
    await (await fetch(`${url}/users/1`, { headers })).text()
    expect((await serverSpan()).attributes['client.address']).toBe('127.0.0.1')
    await app?.close()
    exporter.reset()
    const trusted = await start({}, (a) => a.set('trust proxy', true))
    await (await fetch(`${trusted.url}/users/1`, { headers })).text()
    const span = await serverSpan()
    expect(span.attributes['client.address']).toBe('198.51.100.7')
    expect(span.attributes['url.scheme']).toBe('https')
    await app?.close()
    exporter.reset()
    // trusting only loopback: the entry our loopback peer vouches for, not the spoofable first one
    const loopback = await start({}, (a) => a.set('trust proxy', 'loopback'))
    await (await fetch(`${loopback.url}/users/1`, { headers })).text()
    expect((await serverSpan()).attributes['client.address']).toBe('10.0.0.2')
  })

  it('redacts sensitive query values', async () => {
    const { url } = await start({})
    await (await fetch(`${url}/users/1?access_token=abc&page=2`)).text()
    expect((await serverSpan()).attributes['url.query']).toBe('access_token=REDACTED&page=2')
  })
})
