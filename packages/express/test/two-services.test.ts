// End to end: an Express service calls a Koa service with fetch; one trace, parent links intact,
// exported through OTLP/HTTP protobuf to a loopback sink and decoded there.
import KoaRouter from '@koa/router'
import { forceFlush, init, OtlpExporter, shutdown } from '@threadline/core'
import { decodeTraceRequestProto, type OtlpSpan } from '@threadline/core/otlp'
import { threadline as koaTracing } from '@threadline/koa'
import express from 'express'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { threadline } from '../src/index.js'
import { listen, type Running } from './harness.js'

describe('two services, one trace', () => {
  let sink: Running
  let orders: Running
  let gateway: Running
  const received: OtlpSpan[] = []

  beforeAll(async () => {
    sink = await listen((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const decoded = decodeTraceRequestProto(new Uint8Array(Buffer.concat(chunks)))
        if (decoded.ok) {
          for (const rs of decoded.request.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans)
        }
        res.writeHead(decoded.ok ? 200 : 400, { 'content-type': 'application/x-protobuf' }).end()
      })
    })
    init({ serviceName: 'shop', exporter: new OtlpExporter({ url: `${sink.url}/v1/traces` }) })

    const koa = new Koa()
    koa.use(koaTracing())
    const router = new KoaRouter()
    router.get('/stock/:sku', (ctx) => {
      ctx.body = { sku: ctx.params.sku, available: 3 }
    })
    koa.use(router.routes())
    orders = await listen(koa.callback())

    const app = express()
    app.use(threadline())
    app.get('/orders/:id', async (req, res) => {
      const stock = await fetch(`${orders.url}/stock/sku-${req.params.id}`)
      res.json({ order: req.params.id, stock: await stock.json() })
    })
    gateway = await listen(app)
  })
  afterAll(async () => {
    await gateway.close()
    await orders.close()
    await shutdown()
    await sink.close()
  })

  it('links gateway server → fetch client → orders server in one exported trace', async () => {
    const res = await fetch(`${gateway.url}/orders/17`)
    expect(await res.json()).toEqual({ order: '17', stock: { sku: 'sku-17', available: 3 } })
    // spans end on 'finish'; wait (bounded) for all three, then flush them through OTLP
    for (let i = 0; i < 400 && received.length < 3; i++) {
      await forceFlush()
      if (received.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const server = received.find((s) => s.name === 'GET /orders/:id')
    const client = received.find((s) => s.kind === 3)
    const downstream = received.find((s) => s.name === 'GET /stock/:sku')
    expect(server?.kind).toBe(2)
    expect(downstream?.kind).toBe(2)
    expect(server?.parentSpanId).toBe('')
    expect(client?.parentSpanId).toBe(server?.spanId)
    expect(downstream?.parentSpanId).toBe(client?.spanId)
    expect(new Set(received.map((s) => s.traceId))).toEqual(new Set([server?.traceId]))
    expect(downstream?.attributes['http.route']).toBe('/stock/:sku')
    expect(client?.attributes['http.response.status_code']).toBe(200)
  })
})
