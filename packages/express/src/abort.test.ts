import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

describe.each(majors)('%s: a request the client abandons', (_label, express) => {
  let app: Running
  let arrived: () => void = () => {}
  beforeAll(async () => {
    const server = express()
    server.use(threadline())
    server.get('/slow/:id', (req, res) => {
      arrived()
      // answers only after the client has gone (never, in this test)
      req.on('close', () => setImmediate(() => res.headersSent || res.end()))
    })
    server.get('/half/:id', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first part')
      arrived()
    })
    app = await listen(server)
  })
  afterAll(() => app.close())

  async function abandon(path: string): Promise<void> {
    const controller = new AbortController()
    const there = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const request = fetch(app.url + path, { signal: controller.signal }).then((r) => r.text())
    await there
    controller.abort()
    await expect(request).rejects.toThrow()
  }

  it('ends the span with error.type "aborted" when no response was sent', async () => {
    await abandon('/slow/1')
    const span = await serverSpan()
    expect(span.name).toBe('GET /slow/:id')
    expect(span.attributes['error.type']).toBe('aborted')
    expect(span.status.code).toBe(2)
    expect(span.attributes['http.response.status_code']).toBeUndefined()
    expect(exporter.getFinishedSpans()).toHaveLength(1)
  })

  it('keeps the status code of a response cut off half-way', async () => {
    await abandon('/half/1')
    const span = await serverSpan()
    expect(span.attributes['error.type']).toBe('aborted')
    expect(span.attributes['http.response.status_code']).toBe(200)
  })
})
