import { Body, Controller, Get, Inject, Injectable, Module, Post } from '@nestjs/common'
import { SpanStatusCode } from '@threadline/core'
import { of } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { Traced, TracingModule, TracingService } from '../src/index.js'
import {
  childrenOf,
  type Platform,
  platforms,
  type Running,
  requestSpans,
  serverSpan,
  start,
  useTracing,
} from './harness.js'

useTracing()

const CONFIG = Symbol('config')

@Module({
  providers: [{ provide: CONFIG, useValue: { name: 'from-config', health: '/orders/health' } }],
  exports: [CONFIG],
})
class ConfigModule {}

@Injectable()
class OrdersService {
  constructor(@Inject(TracingService) private readonly tracing: TracingService) {}

  @Traced()
  async place(item: string): Promise<string> {
    this.tracing.setAttributes({ 'order.item': item })
    await this.tracing.trace('reserve stock', async (span) => {
      span.setAttribute('stock.item', item)
      await new Promise((resolve) => setImmediate(resolve))
    })
    const span = this.tracing.startSpan('charge card')
    span.end()
    return `placed ${item}`
  }

  @Traced()
  async fail(): Promise<never> {
    await new Promise((resolve) => setImmediate(resolve))
    throw new Error('out of stock')
  }

  @Traced()
  failObservable() {
    return of(1).pipe(() => {
      throw new Error('the stream broke')
    })
  }
}

@Controller('orders')
class OrdersController {
  constructor(@Inject(OrdersService) private readonly orders: OrdersService) {}

  @Post()
  async create(@Body() body: { item: string }) {
    return { result: await this.orders.place(body.item) }
  }

  @Get('fail')
  fail() {
    return this.orders.fail().catch((e: Error) => ({ handled: e.message }))
  }

  @Get('health')
  health() {
    return 'ok'
  }
}

@Module({
  imports: [
    TracingModule.forRootAsync({
      imports: [ConfigModule],
      inject: [CONFIG],
      useFactory: async (config: { name: string; health: string }) => ({
        serviceName: config.name,
        ignore: [config.health],
        responseHook: (span) => span.setAttribute('app.hooked', true),
      }),
    }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService],
})
class AsyncAppModule {}

describe.each(platforms)('forRootAsync and TracingService on platform-%s', (platform: Platform) => {
  let running: Running | undefined
  afterEach(async () => {
    await running?.close()
    running = undefined
  })

  it('takes its options from a factory with injected providers', async () => {
    running = await start(AsyncAppModule, platform)
    await (await fetch(`${running.url}/orders/health`)).text()
    const res = await fetch(`${running.url}/orders/fail`)
    expect(await res.json()).toEqual({ handled: 'out of stock' })
    const server = await serverSpan()
    // /orders/health is ignored: the one server span is the second request's
    expect(server.name).toBe('GET /orders/fail')
    expect(server.attributes['app.hooked']).toBe(true)
  })

  it('injects TracingService; spans started through it are children of the active span', async () => {
    running = await start(AsyncAppModule, platform)
    const res = await fetch(`${running.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'hat' }),
    })
    expect(await res.json()).toEqual({ result: 'placed hat' })
    const { server, spans } = await requestSpans()
    expect(server.name).toBe('POST /orders')
    const [place] = childrenOf(server, spans)
    expect(place?.name).toBe('OrdersService.place')
    expect(place?.attributes['order.item']).toBe('hat')
    expect(childrenOf(place!, spans).map((s) => s.name)).toEqual(['reserve stock', 'charge card'])
  })

  it('@Traced records a rejected promise with its stack', async () => {
    running = await start(AsyncAppModule, platform)
    await (await fetch(`${running.url}/orders/fail`)).text()
    const { spans } = await requestSpans()
    const fail = spans.find((s) => s.name === 'OrdersService.fail')
    expect(fail?.status.code).toBe(SpanStatusCode.ERROR)
    expect(String(fail?.events[0]?.attributes['exception.stacktrace'])).toContain('out of stock')
  })
})

describe('@Traced outside a request', () => {
  it('records an Observable that errors, and keeps Nest metadata on decorated methods', async () => {
    const service = new OrdersService(new TracingService())
    await expect(
      new Promise((resolve, reject) => service.failObservable().subscribe({ next: resolve, error: reject })),
    ).rejects.toThrow('the stream broke')
    const { exporter } = await import('./harness.js')
    const span = exporter.getByName('OrdersService.failObservable')
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.parentSpanContext).toBeUndefined()
  })
})

@Module({ imports: [TracingModule.forRoot({ serviceName: 'feature' })] })
class FeatureModule {}

@Module({
  imports: [TracingModule.forRoot({ serviceName: 'root' }), FeatureModule],
  controllers: [OrdersController],
  providers: [OrdersService],
})
class TwiceModule {}

it.each(platforms)('imported twice with different options, one server span per request (%s)', async (platform) => {
  const running = await start(TwiceModule, platform)
  try {
    await (await fetch(`${running.url}/orders/health`)).text()
    expect((await serverSpan()).name).toBe('GET /orders/health')
  } finally {
    await running.close()
  }
})
