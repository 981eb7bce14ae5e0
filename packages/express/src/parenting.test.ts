import { activeSpan, logFields, trace } from '@threadline/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { majors } from '../test/frameworks.js'
import { exporter, listen, type Running, serverSpan, useTracing, waitForSpans } from '../test/harness.js'
import { threadline } from './index.js'

useTracing()

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'

describe.each(majors)('%s: the request span continues the incoming trace', (_label, express) => {
  let app: Running
  beforeAll(async () => {
    const server = express()
    server.use(threadline())
    server.get('/work/:id', async (_req, res) => {
      const sync = activeSpan()?.spanContext().spanId
      await new Promise((resolve) => setTimeout(resolve, 1))
      const child = await trace('load', async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return activeSpan()?.spanContext().spanId
      })
      res.json({ sync, afterAwait: activeSpan()?.spanContext().spanId, child, log: logFields() })
    })
    app = await listen(server)
  })
  afterAll(() => app.close())

  it('is a child of the traceparent it received, and active in the handler across awaits', async () => {
    const res = await fetch(`${app.url}/work/1`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })
    const body = (await res.json()) as { sync: string; afterAwait: string; log: { trace_id: string } }
    await waitForSpans(2)
    const span = await serverSpan()
    expect(span.spanContext().traceId).toBe(TRACE_ID)
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID)
    expect(span.parentSpanContext?.isRemote).toBe(true)
    expect(body.sync).toBe(span.spanContext().spanId)
    expect(body.afterAwait).toBe(span.spanContext().spanId)
    expect(body.log.trace_id).toBe(TRACE_ID)
    const load = exporter.getByName('load')
    expect(load.parentSpanContext?.spanId).toBe(span.spanContext().spanId)
    expect(load.spanContext().traceId).toBe(TRACE_ID)
  })

  it('starts a new trace when there is no traceparent, or a malformed one', async () => {
    for (const headers of [
      {},
      { traceparent: '00-zzzz-nothex-01' },
      { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` },
    ]) {
      exporter.reset()
      const res = await fetch(`${app.url}/work/2`, { headers })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      await waitForSpans(2)
      const span = await serverSpan()
      expect(span.parentSpanContext).toBeUndefined()
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(span.spanContext().traceId).not.toBe('0'.repeat(32))
    }
  })

  it('records nothing for a request its caller did not sample', async () => {
    const res = await fetch(`${app.url}/work/3`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` } })
    const body = (await res.json()) as { log: { trace_id: string; trace_flags: string } }
    expect(body.log).toEqual({ trace_id: TRACE_ID, span_id: expect.any(String), trace_flags: '00' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(exporter.getFinishedSpans()).toEqual([])
  })
})
