import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matrix } from '../test/frameworks.js'
import { listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

describe.each(matrix)('%s: span names follow the route template', (_label, Koa, Router) => {
  let app: Running

  beforeAll(async () => {
    const koa = new Koa()
    koa.use(threadline())
    const root = new Router()
    root.get('/users/:id', (ctx) => {
      ctx.body = { ok: true }
    })
    root.get(/^\/re\/\d+$/, (ctx) => {
      ctx.body = 'regex'
    })
    const api = new Router({ prefix: '/api' })
    api.get('/orders/:id', (ctx) => {
      ctx.body = 'order'
    })
    const v1 = new Router()
    v1.get('/items/:itemId', (ctx) => {
      ctx.body = 'item'
    })
    api.use('/v1', v1.routes())
    koa.use(root.routes()).use(root.allowedMethods())
    koa.use(api.routes())
    app = await listen(koa.callback())
  })
  afterAll(() => app.close())

  const table: Array<[string, string, string, string | undefined]> = [
    ['GET', '/users/42', 'GET /users/:id', '/users/:id'],
    ['GET', '/api/orders/7?full=1', 'GET /api/orders/:id', '/api/orders/:id'],
    ['GET', '/api/v1/items/9', 'GET /api/v1/items/:itemId', '/api/v1/items/:itemId'],
    ['HEAD', '/users/42', 'HEAD /users/:id', '/users/:id'],
    ['GET', '/nowhere/at/all', 'GET', undefined],
    ['OPTIONS', '/users/42', 'OPTIONS', undefined],
  ]
  it.each(table)('%s %s → %s', async (method, path, name, route) => {
    await (await fetch(app.url + path, { method })).arrayBuffer()
    const span = await serverSpan()
    expect(span.name).toBe(name)
    expect(span.attributes['http.route']).toBe(route)
    expect(span.attributes['url.path']).toBe(path.split('?')[0])
  })

  it('names a regular-expression route by its source', async () => {
    await (await fetch(`${app.url}/re/12`)).arrayBuffer()
    expect((await serverSpan()).name).toBe('GET /^\\/re\\/\\d+$/')
  })

  it('never uses the raw URL for a 404', async () => {
    const res = await fetch(`${app.url}/users/42/secret-token-abc`)
    expect(res.status).toBe(404)
    const span = await serverSpan()
    expect(span.name).toBe('GET')
    expect(span.attributes['http.response.status_code']).toBe(404)
    expect(span.status.code).toBe(0)
  })
})
