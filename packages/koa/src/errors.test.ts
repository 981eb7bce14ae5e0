import type { Context, Next } from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors, routers } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

const Router = routers[0]![1]

function routes() {
  const router = new Router()
  router.get('/throw/:id', () => {
    throw new TypeError('sync boom')
  })
  router.get('/async/:id', async () => {
    await new Promise((resolve) => setImmediate(resolve))
    throw new RangeError('rejected later')
  })
  router.get('/invalid', (ctx) => ctx.throw(400, 'name is required'))
  router.get('/unavailable', (ctx) => ctx.throw(503, 'try later'))
  return router.routes()
}

async function errorHandler(ctx: Context, next: Next, report: boolean): Promise<void> {
  try {
    await next()
  } catch (err) {
    const e = err as Error & { status?: number }
    ctx.status = e.status ?? 500
    ctx.body = { error: e.message }
    if (report) ctx.app.emit('error', err, ctx)
  }
}

describe.each(majors)('%s: errors are recorded on the request span', (_label, Koa) => {
  let bare: Running
  let outer: Running
  let inner: Running

  beforeAll(async () => {
    const a = new Koa()
    a.silent = true
    a.use(threadline())
    a.use(routes())
    bare = await listen(a.callback())

    // the app's error handler comes first and turns errors into responses
    const b = new Koa()
    b.use((ctx, next) => errorHandler(ctx, next, false))
    b.use(threadline())
    b.use(routes())
    outer = await listen(b.callback())

    // the app's error handler comes after threadline() and reports with app.emit('error')
    const c = new Koa()
    c.silent = true
    c.use(threadline())
    c.use((ctx, next) => errorHandler(ctx, next, true))
    c.use(routes())
    inner = await listen(c.callback())
  })
  afterAll(async () => {
    await bare.close()
    await outer.close()
    await inner.close()
  })

  async function exceptionOf(path: string, app: Running, expectedStatus: number) {
    const res = await fetch(app.url + path)
    expect(res.status).toBe(expectedStatus)
    await res.arrayBuffer()
    const span = await serverSpan()
    return { span, event: span.events.find((e) => e.name === 'exception') }
  }

  for (const [where, app] of [
    ["Koa's default handler", () => bare],
    ['an error middleware before threadline()', () => outer],
    ["an error middleware after threadline() that emits 'error'", () => inner],
  ] as const) {
    it(`a thrown error answered by ${where}`, async () => {
      const { span, event } = await exceptionOf('/throw/1', app(), 500)
      expect(span.name).toBe('GET /throw/:id')
      expect(span.status).toEqual({ code: 2, message: 'sync boom' })
      expect(span.attributes['error.type']).toBe('TypeError')
      expect(String(event?.attributes['exception.stacktrace'])).toContain('errors.test.ts')
    })

    it(`a rejected async middleware answered by ${where}`, async () => {
      const { span, event } = await exceptionOf('/async/1', app(), 500)
      expect(span.name).toBe('GET /async/:id')
      expect(span.attributes['error.type']).toBe('RangeError')
      expect(event?.attributes['exception.message']).toBe('rejected later')
    })
  }

  it('ctx.throw(503) is a server error, ctx.throw(400) is not', async () => {
    const unavailable = await exceptionOf('/unavailable', bare, 503)
    expect(unavailable.span.status.code).toBe(2)
    expect(unavailable.span.attributes['http.response.status_code']).toBe(503)
    exporter.reset()
    const { span } = await exceptionOf('/invalid', outer, 400)
    expect(span.status.code).toBe(0)
    expect(span.attributes['error.type']).toBeUndefined()
  })
})
