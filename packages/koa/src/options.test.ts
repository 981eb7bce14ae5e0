import { getTracer } from '@threadline/core'
import { afterEach, describe, expect, it } from 'vitest'
import { majors, routers } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { type ThreadlineKoaOptions, threadline } from './index.js'

useTracing()

const Router = routers[0]![1]

describe.each(majors)('%s: options', (_label, Koa) => {
  let app: Running | undefined
  afterEach(() => app?.close())

  async function start(options: ThreadlineKoaOptions, proxy = false): Promise<Running> {
    const koa = new Koa()
    koa.proxy = proxy
    koa.use(threadline(options))
    const router = new Router()
    router.get('/health', (ctx) => {
      // a health check that pings a dependency: inside an ignored request this starts no trace
      getTracer('health').startSpan('ping').end()
      ctx.body = 'ok'
    })
    router.get('/users/:id', (ctx) => {
      ctx.set('x-request-id', 'r-1')
      ctx.cookies.set('sid', 'secret')
      ctx.body = { id: 1 }
    })
    koa.use(router.routes())
    app = await listen(koa.callback())
    return app
  }

  it('ignore: listed paths and a predicate get no span, other requests do', async () => {
    const { url } = await start({ ignore: ['/health', /^\/metrics/] })
    await (await fetch(`${url}/health?probe=1`)).text()
    await (await fetch(`${url}/users/1`)).text()
    expect((await serverSpan()).name).toBe('GET /users/:id')
    // no server span and no orphan trace from the ignored request's own work
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET /users/:id'])
    await app?.close()
    exporter.reset()
    const second = await start({ ignore: (ctx) => ctx.get('user-agent') === 'kube-probe/1.30' })
    await (await fetch(`${second.url}/users/2`, { headers: { 'user-agent': 'kube-probe/1.30' } })).text()
    await (await fetch(`${second.url}/health`)).text()
    expect((await serverSpan()).name).toBe('GET /health')
  })

  it('requestHook and responseHook add attributes; a throwing hook does not break the request', async () => {
    const { url } = await start({
      requestHook: (span, ctx) => {
        span.setAttribute('app.tenant', ctx.get('x-tenant'))
        throw new Error('hook bug')
      },
      responseHook: (span, ctx) => {
        span.setAttribute('app.request_id', String(ctx.response.get('x-request-id')))
        throw new Error('hook bug')
      },
    })
    const res = await fetch(`${url}/users/1`, { headers: { 'x-tenant': 'acme' } })
    expect(res.status).toBe(200)
    await res.text()
    const span = await serverSpan()
    expect(span.attributes['app.tenant']).toBe('acme')
    expect(span.attributes['app.request_id']).toBe('r-1')
  })

  it('captureHeaders records allow-listed headers and never credentials unless named', async () => {
    const { url } = await start({ captureHeaders: { request: ['X-Tenant'], response: ['x-request-id'] } })
    await (
      await fetch(`${url}/users/1`, { headers: { 'x-tenant': 'acme', authorization: 'Bearer abc', cookie: 'sid=1' } })
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
    expect(String(span.attributes['http.response.header.set-cookie'])).toContain('sid=secret')
  })

  it('spanName overrides the name with the route at hand', async () => {
    const { url } = await start({ spanName: (ctx, route) => `${ctx.method} ${route ?? '?'} (api)` })
    await (await fetch(`${url}/users/7`)).text()
    expect((await serverSpan()).name).toBe('GET /users/:id (api)')
  })

  it('client.address follows X-Forwarded-For only when app.proxy is set', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7, 10.0.0.2', 'x-forwarded-proto': 'https' }
    const { url } = await start({})
    await (await fetch(`${url}/users/1`, { headers })).text()
    expect((await serverSpan()).attributes['client.address']).toBe('127.0.0.1')
    await app?.close()
    exporter.reset()
    const trusted = await start({}, true)
    await (await fetch(`${trusted.url}/users/1`, { headers })).text()
    const span = await serverSpan()
    expect(span.attributes['client.address']).toBe('198.51.100.7')
    expect(span.attributes['url.scheme']).toBe('https')
  })

  it('records unknown methods as _OTHER with the original', async () => {
    const { url } = await start({})
    await (await fetch(`${url}/users/1`, { method: 'PURGE' })).text()
    const span = await serverSpan()
    expect(span.name).toBe('HTTP')
    expect(span.attributes['http.request.method']).toBe('_OTHER')
    expect(span.attributes['http.request.method_original']).toBe('PURGE')
  })
})
