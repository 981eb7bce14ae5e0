import type { NextFunction, Request, Response } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

class ValidationError extends Error {
  override name = 'ValidationError'
  status = 400
}

describe.each(majors)('%s: errors are recorded on the request span', (label, express) => {
  let bare: Running
  let handled: Running

  beforeAll(async () => {
    // no error handler of its own: Express's final handler answers 500
    const a = express()
    a.use(threadline())
    a.get('/throw/:id', () => {
      throw new TypeError('sync boom')
    })
    a.get('/next/:id', (_req, _res, next) => next(new RangeError('passed to next')))
    a.get('/status/:id', () => {
      throw Object.assign(new Error('unavailable'), { status: 503 })
    })
    bare = await listen(a)

    // the app's own error handlers turn errors into responses
    const b = express()
    b.use(threadline())
    b.get('/throw/:id', () => {
      throw new TypeError('sync boom')
    })
    b.get('/invalid', () => {
      throw new ValidationError('name is required')
    })
    if (label === 'express 5') {
      b.get('/async/:id', async () => {
        await new Promise((resolve) => setImmediate(resolve))
        throw new Error('rejected later')
      })
    }
    const nested = express.Router()
    nested.get('/items/:id', (_req, _res, next) => next(new Error('nested failure')))
    nested.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(502).json({ router: err.message })
    })
    b.use('/api', nested)
    b.get(
      '/guarded/:id',
      () => {
        throw new Error('route-level failure')
      },
      (err: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).send(err.message)
      },
    )
    b.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(err.status ?? 500).json({ error: err.message })
    })
    handled = await listen(b)
  })
  afterAll(async () => {
    await bare.close()
    await handled.close()
  })

  async function exceptionOf(path: string, app: Running, expectedStatus: number) {
    const res = await fetch(app.url + path)
    expect(res.status).toBe(expectedStatus)
    await res.arrayBuffer()
    const span = await serverSpan()
    const event = span.events.find((e) => e.name === 'exception')
    return { span, event }
  }

  it('a thrown error with no error handler: 500, error status, exception with stack', async () => {
    const { span, event } = await exceptionOf('/throw/1', bare, 500)
    expect(span.name).toBe('GET /throw/:id')
    expect(span.status).toEqual({ code: 2, message: 'sync boom' })
    expect(span.attributes['error.type']).toBe('TypeError')
    expect(event?.attributes['exception.message']).toBe('sync boom')
    expect(String(event?.attributes['exception.stacktrace'])).toContain('errors.test.ts')
  })

  it('next(err) with no error handler', async () => {
    const { span, event } = await exceptionOf('/next/1', bare, 500)
    expect(span.attributes['error.type']).toBe('RangeError')
    expect(event?.attributes['exception.message']).toBe('passed to next')
  })

  it('an error carrying its own 5xx status', async () => {
    const { span } = await exceptionOf('/status/1', bare, 503)
    expect(span.attributes['http.response.status_code']).toBe(503)
    expect(span.status.code).toBe(2)
  })

  it("a thrown error the app's error handler turns into a 500 response", async () => {
    const { span, event } = await exceptionOf('/throw/2', handled, 500)
    expect(span.name).toBe('GET /throw/:id')
    expect(span.status.code).toBe(2)
    expect(event?.attributes['exception.type']).toBe('TypeError')
  })

  it("next(err) caught by a nested router's error handler keeps the nested route", async () => {
    const { span, event } = await exceptionOf('/api/items/5', handled, 502)
    expect(span.name).toBe('GET /api/items/:id')
    expect(span.status.code).toBe(2)
    expect(event?.attributes['exception.message']).toBe('nested failure')
  })

  it("an error handled by the route's own error handler", async () => {
    const { span, event } = await exceptionOf('/guarded/1', handled, 500)
    expect(span.name).toBe('GET /guarded/:id')
    expect(event?.attributes['exception.message']).toBe('route-level failure')
  })

  it('an error handler added after the first request is seen too', async () => {
    const late = express()
    late.use(threadline())
    late.get('/first', (_req, res) => {
      res.send('ok')
    })
    const app = await listen(late)
    try {
      await (await fetch(`${app.url}/first`)).text()
      await serverSpan()
      exporter.reset()
      late.get('/later/:id', () => {
        throw new SyntaxError('added later')
      })
      late.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).send(err.message)
      })
      const { span, event } = await exceptionOf('/later/1', app, 500)
      expect(span.name).toBe('GET /later/:id')
      expect(event?.attributes['exception.type']).toBe('SyntaxError')
    } finally {
      await app.close()
    }
  })

  it('an error answered with a 4xx is not a server error', async () => {
    const { span } = await exceptionOf('/invalid', handled, 400)
    expect(span.status.code).toBe(0)
    expect(span.attributes['error.type']).toBeUndefined()
    expect(span.attributes['http.response.status_code']).toBe(400)
  })

  it.runIf(label === 'express 5')('a rejected async handler (Express 5)', async () => {
    const { span, event } = await exceptionOf('/async/1', handled, 500)
    expect(span.name).toBe('GET /async/:id')
    expect(span.status).toEqual({ code: 2, message: 'rejected later' })
    expect(event?.attributes['exception.message']).toBe('rejected later')
  })
})
