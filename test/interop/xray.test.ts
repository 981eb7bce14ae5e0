// Threadline ⇄ AWS X-Ray SDK (aws-xray-sdk-core + aws-xray-sdk-express): X-Ray → Threadline →
// X-Ray → Threadline with `X-Amzn-Trace-Id`. Both send their documents to one UDP listener on
// 127.0.0.1 (the daemon's place); Threadline's are compared field by field with the SDK's own
// documents for the same kind of hop.
import { init, MemoryExporter, type ReadableSpan, shutdown, XrayExporter } from '@threadline/core'
import { threadline } from '@threadline/express'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { listen, named, one, type Running, waitFor } from './harness.js'
import { type DaemonListener, flatten, startDaemonListener, type XrayDocument, xrayService } from './xray-peer.js'

let daemon: DaemonListener
let threadlineA: Running
let threadlineB: Running
let xray: Running
const headerAtMid = new Map<string, string>()
let exporter: MemoryExporter

beforeAll(async () => {
  daemon = await startDaemonListener()
  const a = express()
  a.use(threadline({ serviceName: 'threadline-a' }))
  a.get('/a', async (req, res) => {
    if (req.query.status) {
      res.status(Number(req.query.status)).send('failed')
      return
    }
    const r = await fetch(`${xray.url}/mid?rid=${req.query.rid}`)
    res.status(r.status).send(await r.text())
  })
  const b = express()
  b.use(threadline({ serviceName: 'threadline-b' }))
  b.get('/b', (_req, res) => {
    res.send('ok')
  })
  threadlineA = await listen(a)
  threadlineB = await listen(b)
  xray = await listen(
    xrayService({
      name: 'xray-sdk',
      daemonAddress: daemon.address,
      next: (path, req) =>
        path === '/start'
          ? `${threadlineA.url}/a?rid=${req.query.rid}${req.query.status ? `&status=${req.query.status}` : ''}`
          : `${threadlineB.url}/b?rid=${req.query.rid}`,
      onMid: (req) => headerAtMid.set(String(req.query.rid), String(req.headers['x-amzn-trace-id'])),
    }),
  )
  await shutdown() // the middleware started the SDK with defaults; each test starts its own
})
afterAll(async () => {
  for (const s of [threadlineA, threadlineB, xray]) await s.close()
  await daemon.close()
})
afterEach(() => shutdown())

let counter = 0
const nextRid = () => `x${++counter}`

function startThreadline(): void {
  exporter = new MemoryExporter()
  // the XrayExporter instance also selects X-Ray trace ids (epoch-prefixed) for new traces
  init({
    serviceName: 'threadline',
    exporter: [exporter, new XrayExporter({ daemonAddress: daemon.address })],
    batch: false,
    propagators: ['xray'],
  })
}

function threadlineSpans(): { a: ReadableSpan; client: ReadableSpan; b: ReadableSpan } {
  const spans = exporter.getFinishedSpans()
  return { a: named(spans, 'GET /a'), client: named(spans, 'GET'), b: named(spans, 'GET /b') }
}

const inTrace = (traceId: string) => flatten(daemon.received).filter((d) => d.trace_id === traceId)
const sdkSegment = (docs: XrayDocument[], path: string) =>
  one(
    docs,
    (d) => d.name === 'xray-sdk' && String(d.http?.request?.url).includes(path),
    `X-Ray SDK segment for ${path}`,
  )
/** scheme, host and whether there is a path: the parts both writers agree on. */
const urlShape = (url: unknown) => {
  if (typeof url !== 'string') return undefined
  const u = new URL(url)
  return { protocol: u.protocol, hostname: u.hostname, path: /^\/\w+$/.test(u.pathname) }
}
const byId = (docs: XrayDocument[], id: string) => one(docs, (d) => d.id === id, `document ${id}`)

describe('Threadline (xray) ⇄ AWS X-Ray SDK', () => {
  it('joins one trace: X-Ray → Threadline → X-Ray → Threadline, each segment’s parent the caller’s subsegment', async () => {
    startThreadline()
    const rid = nextRid()
    const res = await fetch(`${xray.url}/start?rid=${rid}`)
    expect(await res.text()).toBe('ok')
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const tid = a.spanContext().traceId
    const xrayTraceId = `1-${tid.slice(0, 8)}-${tid.slice(8)}`
    // 2 SDK segments with 1 nested subsegment each, 2 Threadline segments and 1 independent subsegment
    const docs = await waitFor(
      () => inTrace(xrayTraceId),
      (d) => d.length === 7,
    )
    const start = sdkSegment(docs, '/start')
    const mid = sdkSegment(docs, '/mid')
    // the SDK nests its outgoing call's subsegment in the segment; flatten() gave it trace and parent ids
    const startCall = byId(docs, one(start.subsegments ?? [], () => true, 'subsegment of /start').id)
    const midCall = byId(docs, one(mid.subsegments ?? [], () => true, 'subsegment of /mid').id)
    expect(midCall.parent_id).toBe(mid.id)

    expect(start.parent_id).toBeUndefined()
    expect(a.parentSpanContext?.spanId).toBe(startCall.id)
    expect(client.parentSpanContext?.spanId).toBe(a.spanContext().spanId)
    expect(mid.parent_id).toBe(client.spanContext().spanId)
    expect(b.parentSpanContext?.spanId).toBe(midCall.id)
    expect(b.spanContext().traceId).toBe(tid)

    const wire = headerAtMid.get(rid) ?? ''
    expect(wire).toContain(`Root=${xrayTraceId}`)
    expect(wire).toContain(`Parent=${client.spanContext().spanId}`)
    expect(wire).toContain('Sampled=1')

    // Threadline's documents in the same trace, as the daemon got them
    const aSegment = byId(docs, a.spanContext().spanId)
    const clientSub = byId(docs, client.spanContext().spanId)
    const bSegment = byId(docs, b.spanContext().spanId)
    expect(aSegment.parent_id).toBe(startCall.id)
    expect(clientSub.parent_id).toBe(aSegment.id)
    expect(bSegment.parent_id).toBe(midCall.id)
    for (const { header } of daemon.received) expect(header).toEqual({ format: 'json', version: 1 })

    // Field by field: an incoming request's segment (the SDK's /mid vs Threadline's /a)…
    const segmentFields = (d: XrayDocument) => ({
      trace_id: d.trace_id,
      id: /^[0-9a-f]{16}$/.test(d.id),
      parent_id: /^[0-9a-f]{16}$/.test(String(d.parent_id)),
      type: d.type,
      start_time: typeof d.start_time === 'number' && d.start_time > 1e9 && d.start_time < 1e10,
      end_time: typeof d.end_time === 'number' && d.end_time >= d.start_time,
      method: d.http?.request?.method,
      url: urlShape(d.http?.request?.url),
      client_ip: d.http?.request?.client_ip,
      status: d.http?.response?.status,
      fault: d.fault,
      error: d.error,
    })
    expect(segmentFields(aSegment)).toEqual(segmentFields(mid))
    // Known differences: the SDK keeps the query string in a segment's URL, Threadline leaves it out
    // (query values may be sensitive; it is in metadata as url.query); user_agent is compared in its own test below.
    expect(mid.http?.request?.url).toMatch(/\/mid\?rid=x\d+$/)
    expect(aSegment.http?.request?.url).toBe(`${threadlineA.url}/a`)
    expect(aSegment.name).toBe('threadline') // service.name, as the SDK names segments after the service
    // …and an outgoing call's subsegment (the SDK's nested one vs Threadline's independent one).
    const callFields = (d: XrayDocument) => ({
      trace_id: d.trace_id,
      id: /^[0-9a-f]{16}$/.test(d.id),
      name: d.name,
      namespace: d.namespace,
      start_time: typeof d.start_time === 'number' && d.start_time > 1e9 && d.start_time < 1e10,
      end_time: typeof d.end_time === 'number' && d.end_time >= d.start_time,
      method: d.http?.request?.method,
      url: urlShape(d.http?.request?.url),
      status: d.http?.response?.status,
      fault: d.fault,
      error: d.error,
    })
    expect(callFields(clientSub)).toEqual(callFields(midCall))
    // The SDK's remote subsegment URL has neither port nor query (http://127.0.0.1/b); Threadline's is url.full.
    expect(midCall.http?.request?.url).toBe('http://127.0.0.1/b')
    expect(clientSub.http?.request?.url).toBe(`${xray.url}/mid?rid=${rid}`)
    // Threadline sends its subsegment on its own datagram, as the daemon protocol allows.
    expect(clientSub.type).toBe('subsegment')
  })

  // The same incoming request, with the same User-Agent, to a segment of each writer: the SDK's
  // /start (a new trace) and Threadline's /a (a new trace, which then crosses the SDK's /mid to /b).
  // The SDK's captured http client sends no User-Agent, so the segments it calls (Threadline's /a
  // and /b in the first test) rightly have none: compare like with like.
  it('writes http.request.user_agent (and client_ip) in a segment as the SDK does', async () => {
    startThreadline()
    const agent = 'interop-probe/1.0 (+threadline)'
    const rid1 = nextRid()
    await (await fetch(`${xray.url}/start?rid=${rid1}`, { headers: { 'user-agent': agent } })).text()
    const first = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const tid1 = first.a.spanContext().traceId
    const sdkDocs = await waitFor(
      () => inTrace(`1-${tid1.slice(0, 8)}-${tid1.slice(8)}`),
      (d) => d.length === 7,
    )
    const sdkStart = sdkSegment(sdkDocs, '/start')
    expect(sdkStart.http?.request?.user_agent).toBe(agent)

    exporter.reset()
    const rid2 = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid2}`, { headers: { 'user-agent': agent } })
    expect(await res.text()).toBe('ok')
    const { a, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    expect(a.parentSpanContext).toBeUndefined()
    expect(a.attributes['user_agent.original']).toBe(agent)
    const tid2 = a.spanContext().traceId
    // Threadline's /a segment, its client subsegment, the SDK's /mid (+ nested call), Threadline's /b
    const docs = await waitFor(
      () => inTrace(`1-${tid2.slice(0, 8)}-${tid2.slice(8)}`),
      (d) => d.length === 5,
    )
    const aSegment = byId(docs, a.spanContext().spanId)
    const request = (d: XrayDocument) => ({
      user_agent: d.http?.request?.user_agent,
      client_ip: d.http?.request?.client_ip,
    })
    expect(request(aSegment)).toEqual(request(sdkStart))
    expect(request(aSegment)).toEqual({ user_agent: agent, client_ip: '127.0.0.1' })
    // the next hop: Threadline A calls the SDK with fetch, whose User-Agent the SDK records…
    expect(sdkSegment(docs, '/mid').http?.request?.user_agent).toBe('node')
    // …and the SDK's client sends none, so neither writer invents one for /b
    expect(byId(docs, b.spanContext().spanId).http?.request).not.toHaveProperty('user_agent')
  })

  it.each([404, 429, 500, 503])(
    'marks a %i answer with the same error, throttle and fault flags as the SDK',
    async (status) => {
      startThreadline()
      const rid = nextRid()
      const res = await fetch(`${xray.url}/start?rid=${rid}&status=${status}`)
      expect(res.status).toBe(status)
      const a = await waitFor(
        () => exporter.getFinishedSpans(),
        (s) => s.length === 1,
      ).then((s) => named(s, 'GET /a'))
      const tid = a.spanContext().traceId
      const docs = await waitFor(
        () => inTrace(`1-${tid.slice(0, 8)}-${tid.slice(8)}`),
        (d) => d.length === 3,
      )
      const start = sdkSegment(docs, '/start')
      const call = byId(docs, one(start.subsegments ?? [], () => true, 'subsegment of /start').id)
      const flags = (d: XrayDocument) => ({
        status: d.http?.response?.status,
        error: d.error ?? false,
        throttle: d.throttle ?? false,
        fault: d.fault ?? false,
      })
      const expected = {
        status,
        error: status < 500,
        throttle: status === 429,
        fault: status >= 500,
      }
      // the SDK's own segment (it answered with the status it got) and its remote subsegment…
      expect(flags(start)).toEqual(expected)
      expect(flags(call)).toEqual(expected)
      // …and Threadline's segment for the request that answered it
      expect(flags(byId(docs, a.spanContext().spanId))).toEqual(expected)
    },
  )

  it('carries a trace started by Threadline (an X-Ray trace id) through the SDK and back', async () => {
    startThreadline()
    const rid = nextRid()
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}`)
    expect(await res.text()).toBe('ok')
    const { a, client, b } = await waitFor(
      () => exporter.getFinishedSpans(),
      (s) => s.length === 3,
    ).then(threadlineSpans)
    const tid = a.spanContext().traceId
    expect(Math.abs(Number.parseInt(tid.slice(0, 8), 16) - Date.now() / 1000)).toBeLessThan(600)
    const docs = await waitFor(
      () => inTrace(`1-${tid.slice(0, 8)}-${tid.slice(8)}`),
      (d) => d.length === 5,
    )
    const mid = sdkSegment(docs, '/mid')
    expect(mid.parent_id).toBe(client.spanContext().spanId)
    expect(b.parentSpanContext?.spanId).toBe(one(mid.subsegments ?? [], () => true, 'subsegment').id)
    expect(byId(docs, a.spanContext().spanId).parent_id).toBeUndefined()
  })

  it('respects Sampled=0 from upstream: neither side sends documents, the trace id still travels', async () => {
    startThreadline()
    const rid = nextRid()
    const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-a3ce929d0e0e4736a3ce929d`
    const res = await fetch(`${threadlineA.url}/a?rid=${rid}`, {
      headers: { 'x-amzn-trace-id': `Root=${root};Parent=53995c3f42cd8ad8;Sampled=0` },
    })
    expect(await res.text()).toBe('ok')
    expect(headerAtMid.get(rid)).toContain(`Root=${root}`)
    expect(headerAtMid.get(rid)).toContain('Sampled=0')
    // A sampled request along the same path afterwards: once its documents are in, the unsampled ones would be too.
    const before = daemon.received.length
    await (await fetch(`${xray.url}/start?rid=${nextRid()}`)).text()
    await waitFor(
      () => daemon.received.length,
      (n) => n >= before + 5,
    )
    await waitFor(
      () => exporter.getFinishedSpans().length,
      (n) => n >= 3,
    )
    expect(exporter.getFinishedSpans()).toHaveLength(3)
    expect(inTrace(root)).toEqual([])
  })
})
