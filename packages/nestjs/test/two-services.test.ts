import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common'
import { threadline } from '@threadline/express'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Traced, TracingModule } from '../src/index.js'
import { exporter, listenExpress, type Platform, platforms, type Running, start, useTracing } from './harness.js'

useTracing()

let pricing: { url: string; close(): Promise<void> }

beforeAll(async () => {
  const app = express()
  app.use(threadline({ serviceName: 'pricing' }))
  app.get('/prices/:sku', (req, res) => {
    res.json({ sku: req.params.sku, price: 12 })
  })
  pricing = await listenExpress(app)
})
afterAll(() => pricing.close())

@Injectable()
class PricingClient {
  @Traced()
  async price(sku: string): Promise<{ price: number }> {
    const res = await fetch(`${pricing.url}/prices/${sku}`)
    return (await res.json()) as { price: number }
  }
}

@Controller('products')
class ProductsController {
  constructor(@Inject(PricingClient) private readonly pricing: PricingClient) {}

  @Get(':sku')
  async product() {
    return this.pricing.price('hat-1')
  }
}

@Module({
  imports: [TracingModule.forRoot({ serviceName: 'catalog' })],
  controllers: [ProductsController],
  providers: [PricingClient],
})
class CatalogModule {}

describe.each(platforms)('a Nest service on platform-%s calling an Express service', (platform: Platform) => {
  let catalog: Running
  beforeAll(async () => {
    catalog = await start(CatalogModule, platform)
  })
  afterAll(() => catalog.close())

  it('is one trace: Nest SERVER → @Traced → fetch CLIENT → Express SERVER', async () => {
    const res = await fetch(`${catalog.url}/products/hat-1`)
    expect(await res.json()).toMatchObject({ price: 12 })
    let spans = exporter.getFinishedSpans()
    for (let i = 0; i < 400 && spans.filter((s) => s.kind === 1).length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      spans = exporter.getFinishedSpans()
    }
    const nest = spans.find((s) => s.name === 'GET /products/:sku')
    const traced = spans.find((s) => s.name === 'PricingClient.price')
    const client = spans.find((s) => s.kind === 2)
    const remote = spans.find((s) => s.name === 'GET /prices/:sku')
    expect(nest && traced && client && remote).toBeTruthy()
    const traceId = nest!.spanContext().traceId
    for (const s of [traced, client, remote]) expect(s!.spanContext().traceId).toBe(traceId)
    expect(traced!.parentSpanContext?.spanId).toBe(nest!.spanContext().spanId)
    expect(client!.parentSpanContext?.spanId).toBe(traced!.spanContext().spanId)
    expect(remote!.parentSpanContext?.spanId).toBe(client!.spanContext().spanId)
    expect(remote!.scope.name).toBe('@threadline/express')
    expect(nest!.scope.name).toBe('@threadline/nestjs')
  })
})
