import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors } from '../test/frameworks.js'
import { listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

// With a mounted sub-app the route is tracked on each request; without, on the app's request prototype.
const cases = majors.flatMap(([label, express]) =>
  [true, false].map((subApp) => [`${label}${subApp ? ' with a sub-app' : ''}`, express, subApp] as const),
)

describe.each(cases)('%s: span names follow the route template', (label, express, withSubApp) => {
  const v5 = label.startsWith('express 5')
  let app: Running

  beforeAll(async () => {
    const server = express()
    server.use(threadline())
    server.get('/users/:id', (_req, res) => {
      res.json({ ok: true })
    })
    const api = express.Router()
    api.get('/', (_req, res) => {
      res.send('api root')
    })
    api.get('/orders/:id', (_req, res) => {
      res.send('order')
    })
    const v1 = express.Router()
    v1.get('/items/:itemId', (_req, res) => {
      res.send('item')
    })
    api.use('/v1', v1)
    server.use('/api', api)
    const tenant = express.Router()
    tenant.get('/users/:id', (_req, res) => {
      res.send('tenant user')
    })
    server.use('/tenants/:tenant', tenant)
    const admin = express()
    admin.get('/stats', (_req, res) => {
      res.send('stats')
    })
    if (withSubApp) server.use('/admin', admin)
    server.get(/^\/re\/\d+$/, (_req, res) => {
      res.send('regex')
    })
    server.get(['/one', '/two'], (_req, res) => {
      res.send('array')
    })
    server.get(v5 ? '/files/*path' : '/files/*', (_req, res) => {
      res.send('file')
    })
    server.get(v5 ? '/posts{/:slug}' : '/posts/:slug?', (_req, res) => {
      res.send('post')
    })
    // middleware mounted on a path, not a route (`app.use('/graphql', yoga)`)
    server.use('/graphql', (_req, res) => {
      res.json({ data: null })
    })
    server.use('/shops/:shop/graphql', (_req, res) => {
      res.json({ data: null })
    })
    server.use('/pass', (_req, _res, next) => next())
    server.get('/skip/:id', (_req, _res, next) => next())
    server.get('/skip/:id', (_req, res) => {
      res.send('second')
    })
    app = await listen(server)
  })
  afterAll(() => app.close())

  const table: Array<[string, string, string, string | undefined]> = [
    ['GET', '/users/42', 'GET /users/:id', '/users/:id'],
    ['GET', '/api', 'GET /api', '/api'],
    ['GET', '/api/orders/7?full=1', 'GET /api/orders/:id', '/api/orders/:id'],
    ['GET', '/api/v1/items/9', 'GET /api/v1/items/:itemId', '/api/v1/items/:itemId'],
    ['GET', '/tenants/acme/users/3', 'GET /tenants/:tenant/users/:id', '/tenants/:tenant/users/:id'],
    ['GET', '/admin/stats', 'GET /admin/stats', '/admin/stats'],
    ['GET', '/re/123', 'GET /^\\/re\\/\\d+$/', '/^\\/re\\/\\d+$/'],
    ['GET', '/two', 'GET /one,/two', '/one,/two'],
    ['GET', '/skip/1', 'GET /skip/:id', '/skip/:id'],
    ['HEAD', '/users/42', 'HEAD /users/:id', '/users/:id'],
    ['POST', '/graphql', 'POST /graphql', '/graphql'],
    ['GET', '/graphql?query=%7Bhello%7D', 'GET /graphql', '/graphql'],
    ['POST', '/shops/acme/graphql', 'POST /shops/:shop/graphql', '/shops/:shop/graphql'],
    ['GET', '/pass/through', 'GET', undefined],
    ['GET', '/nowhere/at/all', 'GET', undefined],
    ['OPTIONS', '/users/42', 'OPTIONS', undefined],
  ]
  it.each(table)('%s %s → %s', async (method, path, name, route) => {
    if (!withSubApp && path.startsWith('/admin')) return
    await (await fetch(app.url + path, { method })).arrayBuffer()
    const span = await serverSpan()
    expect(span.name).toBe(name)
    expect(span.attributes['http.route']).toBe(route)
    expect(span.attributes['url.path']).toBe(path.split('?')[0])
  })

  it('names wildcard and optional-segment routes in the syntax of this major', async () => {
    await (await fetch(`${app.url}/files/a/b.txt`)).arrayBuffer()
    expect((await serverSpan()).name).toBe(v5 ? 'GET /files/*path' : 'GET /files/*')
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
