import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

describe.each(majors)('%s: streaming responses', (_label, express) => {
  let app: Running
  let release: () => void = () => {}
  beforeAll(async () => {
    const server = express()
    server.use(threadline())
    server.get('/events/:topic', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: one\n\n')
      release = () => res.end('data: two\n\n')
    })
    server.get('/download/:name', (_req, res) => {
      res.type('text/plain')
      Readable.from(['a', 'b', 'c']).pipe(res)
    })
    app = await listen(server)
  })
  afterAll(() => app.close())

  it('ends the span when the stream ends, not when the handler returns', async () => {
    const res = await fetch(`${app.url}/events/news`)
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n')
    // the handler has returned and headers are out, yet the span is still open
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    release()
    while (!(await reader.read()).done) {}
    const span = await serverSpan()
    expect(span.name).toBe('GET /events/:topic')
    expect(span.attributes['http.response.status_code']).toBe(200)
    expect(span.status.code).toBe(0)
  })

  it('traces a piped stream', async () => {
    expect(await (await fetch(`${app.url}/download/file.txt`)).text()).toBe('abc')
    expect((await serverSpan()).name).toBe('GET /download/:name')
  })
})
