import { activeSpan, logFields, trace } from '@threadline/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors, routers } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing, waitForSpans } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const Router = routers[0]![1]

describe.each(majors)('%s: the request span continues the incoming trace', (_label, Koa) => {
  let app: Running
  beforeAll(async () => {
    const koa = new Koa()
    koa.use(threadline())
    const router = new Router()
    router.get('/work/:id', async (ctx) => {
      const sync = activeSpan()?.spanContext().spanId
      await new Promise((resolve) => setTimeout(resolve, 1))
      const child = await trace('load', async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return activeSpan()?.spanContext().spanId
      })
      ctx.body = { sync, afterAwait: activeSpan()?.spanContext().spanId, child, log: logFields() }
    })
    koa.use(router.routes())
    app = await listen(koa.callback())
  })
  afterAll(() => app.close())

  it('is a child of the traceparent it received, and active in the handler across awaits', async () => {
    const res = await fetch(`${app.url}/work/1`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })
    const body = (await res.json()) as { sync: string; afterAwait: string; log: { trace_id: string } }
    await waitForSpans(2)
    const span = await serverSpan()
    expect(span.spanContext().traceId).toBe(TRACE_ID)
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID)
    expect(body.sync).toBe(span.spanContext().spanId)
    expect(body.afterAwait).toBe(span.spanContext().spanId)
    expect(body.log.trace_id).toBe(TRACE_ID)
    expect(exporter.getByName('load').parentSpanContext?.spanId).toBe(span.spanContext().spanId)
  })

  it('starts a new trace when the traceparent is missing or malformed', async () => {
    for (const headers of [
      {},
      { traceparent: '00-zzzz-nothex-01' },
      { traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01` },
    ]) {
      exporter.reset()
      const res = await fetch(`${app.url}/work/2`, { headers })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      await waitForSpans(2)
      expect((await serverSpan()).parentSpanContext).toBeUndefined()
    }
  })

  it('records nothing for a request its caller did not sample', async () => {
    const res = await fetch(`${app.url}/work/3`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` } })
    const body = (await res.json()) as { log: { trace_id: string; trace_flags: string } }
    expect(body.log.trace_id).toBe(TRACE_ID)
    expect(body.log.trace_flags).toBe('00')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(exporter.getFinishedSpans()).toEqual([])
  })
})
