import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors, routers } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

const Router = routers[0]![1]

describe.each(majors)('%s: a request the client abandons', (_label, Koa) => {
  let app: Running
  let arrived: () => void = () => {}
  beforeAll(async () => {
    const koa = new Koa()
    koa.use(threadline())
    const router = new Router()
    router.get('/slow/:id', async (ctx) => {
      arrived()
      // answers only after the client has gone
      await new Promise((resolve) => ctx.req.on('close', resolve))
      ctx.body = 'too late'
    })
    koa.use(router.routes())
    app = await listen(koa.callback())
  })
  afterAll(() => app.close())

  it('ends the span once with error.type "aborted" when no response was sent', async () => {
    const controller = new AbortController()
    const there = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const request = fetch(`${app.url}/slow/1`, { signal: controller.signal })
    await there
    controller.abort()
    await expect(request).rejects.toThrow()
    const span = await serverSpan()
    expect(span.name).toBe('GET /slow/:id')
    expect(span.attributes['error.type']).toBe('aborted')
    expect(span.status.code).toBe(2)
    expect(exporter.getFinishedSpans()).toHaveLength(1)
  })
})
