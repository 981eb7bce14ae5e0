import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors, routers } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

const Router = routers[0]![1]

describe.each(majors)('%s: streaming responses', (_label, Koa) => {
  let app: Running
  let release: () => void = () => {}
  beforeAll(async () => {
    const koa = new Koa()
    koa.use(threadline())
    const router = new Router()
    router.get('/events/:topic', (ctx) => {
      const stream = new PassThrough()
      ctx.type = 'text/event-stream'
      ctx.body = stream
      stream.write('data: one\n\n')
      release = () => stream.end('data: two\n\n')
    })
    router.get('/download/:name', (ctx) => {
      ctx.type = 'text/plain'
      ctx.body = Readable.from(['a', 'b', 'c'])
    })
    koa.use(router.routes())
    app = await listen(koa.callback())
  })
  afterAll(() => app.close())

  it('ends the span when the body stream ends, not when the middleware returns', async () => {
    const res = await fetch(`${app.url}/events/news`)
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    release()
    while (!(await reader.read()).done) {}
    const span = await serverSpan()
    expect(span.name).toBe('GET /events/:topic')
    expect(span.attributes['http.response.status_code']).toBe(200)
  })

  it('traces a body that is a readable stream', async () => {
    expect(await (await fetch(`${app.url}/download/file.txt`)).text()).toBe('abc')
    expect((await serverSpan()).name).toBe('GET /download/:name')
  })
})
