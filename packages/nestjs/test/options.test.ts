import {
  Controller,
  Get,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Version,
  VersioningType,
} from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { afterEach, describe, expect, it } from 'vitest'
import { Traced, TracingModule } from '../src/index.js'
import { exporter, type Platform, platforms, type Running, serverSpan, start, useTracing } from './harness.js'

useTracing()

class Work {
  @Traced()
  run(): string {
    return 'done'
  }
}

@Controller('items')
class ItemsController {
  private readonly work = new Work()

  @Get(':id')
  @Version('1')
  v1() {
    return this.work.run()
  }

  @Get(':id')
  @Version('2')
  v2() {
    return 'two'
  }
}

class FailingMiddleware implements NestMiddleware {
  use(req: { headers: Record<string, string | undefined> }, _res: unknown, next: () => void) {
    if (req.headers['x-fail'] === '1') throw new Error('the middleware exploded')
    next()
  }
}

@Module({
  imports: [
    TracingModule.forRoot({
      captureHeaders: { request: ['x-tenant', 'authorization'], response: ['x-served-by'] },
      requestHook: (span, req) => span.setAttribute('app.method', req.method ?? ''),
      ignore: (req) => req.headers['x-skip'] === '1',
    }),
  ],
  controllers: [ItemsController],
})
class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(FailingMiddleware).forRoutes(ItemsController)
  }
}

describe.each(platforms)('options and versioning on platform-%s', (platform: Platform) => {
  let running: Running | undefined
  afterEach(async () => {
    await running?.close()
    running = undefined
  })

  async function app() {
    running = await start(AppModule, platform, (a) => {
      a.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version' })
      a.use((_req: unknown, res: { setHeader(n: string, v: string): void }, next: () => void) => {
        res.setHeader('x-served-by', 'items-1')
        next()
      })
    })
    return running.url
  }

  it('header versioning: the route has no version, the right handler is recorded', async () => {
    const url = await app()
    const res = await fetch(`${url}/items/9`, { headers: { 'x-api-version': '2' } })
    expect(await res.text()).toBe('two')
    const span = await serverSpan()
    expect(span.name).toBe('GET /items/:id')
    expect(span.attributes['nestjs.handler']).toBe('v2')
  })

  it('records allow-listed headers (authorization only because it is named) and runs requestHook', async () => {
    const url = await app()
    await fetch(`${url}/items/9`, {
      headers: { 'x-api-version': '1', 'x-tenant': 'acme', authorization: 'Bearer t', cookie: 'a=b' },
    })
    const span = await serverSpan()
    expect(span.attributes['http.request.header.x-tenant']).toEqual(['acme'])
    expect(span.attributes['http.request.header.authorization']).toEqual(['Bearer t'])
    expect(span.attributes['http.request.header.cookie']).toBeUndefined()
    expect(span.attributes['http.response.header.x-served-by']).toEqual(['items-1'])
    expect(span.attributes['app.method']).toBe('GET')
  })

  it('an ignore predicate leaves the request untraced, and the app answers', async () => {
    const url = await app()
    const res = await fetch(`${url}/items/9`, { headers: { 'x-api-version': '1', 'x-skip': '1' } })
    expect(await res.text()).toBe('done')
    await fetch(`${url}/items/9`, { headers: { 'x-api-version': '2' } })
    const span = await serverSpan()
    expect(span.attributes['nestjs.handler']).toBe('v2')
    expect(exporter.findByName('Work.run')).toHaveLength(0)
  })

  it("an error thrown in the application's middleware is recorded (500)", async () => {
    const url = await app()
    const res = await fetch(`${url}/items/9`, { headers: { 'x-api-version': '1', 'x-fail': '1' } })
    expect(res.status).toBe(500)
    const span = await serverSpan()
    expect(span.status.code).toBe(2)
    expect(span.events[0]?.attributes['exception.message']).toBe('the middleware exploded')
  })

  it('an unsampled caller: no spans for its request, same answer', async () => {
    const url = await app()
    const res = await fetch(`${url}/items/9`, {
      headers: { 'x-api-version': '1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' },
    })
    expect(await res.text()).toBe('done')
    // a sampled request after it: its spans are the only ones exported
    await fetch(`${url}/items/9`, { headers: { 'x-api-version': '1' } })
    const span = await serverSpan()
    const traceIds = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId))
    expect([...traceIds]).toEqual([span.spanContext().traceId])
    expect(span.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c')
  })
})

describe('trust proxy', () => {
  it('platform-express with `trust proxy` takes client.address and url.scheme from X-Forwarded-*', async () => {
    const running = await start(AppModule, 'express', (a) => {
      a.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version' })
      ;(a as unknown as { set(name: string, value: unknown): void }).set('trust proxy', true)
    })
    try {
      await fetch(`${running.url}/items/9`, {
        headers: { 'x-api-version': '2', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
      })
      const span = await serverSpan()
      expect(span.attributes['client.address']).toBe('203.0.113.7')
      expect(span.attributes['url.scheme']).toBe('https')
    } finally {
      await running.close()
    }
  })

  it('without it, X-Forwarded-For is not believed', async () => {
    const running = await start(AppModule, 'fastify', (a) => {
      a.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version' })
    })
    try {
      await fetch(`${running.url}/items/9`, { headers: { 'x-api-version': '2', 'x-forwarded-for': '203.0.113.7' } })
      expect((await serverSpan()).attributes['client.address']).toBe('127.0.0.1')
    } finally {
      await running.close()
    }
  })
})

/** Adds a route straight onto the Express instance during init, as a GraphQL driver does. */
class RawRoute {
  constructor(private readonly host: HttpAdapterHost) {}
  onModuleInit(): void {
    const express = this.host.httpAdapter.getInstance() as {
      get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void
    }
    express.get('/raw/:id', (_req, res) => res.json({ ok: true }))
  }
}
Inject(HttpAdapterHost)(RawRoute, undefined, 0)
Injectable()(RawRoute)

@Module({ imports: [AppModule], providers: [RawRoute] })
class RawRouteModule {}

describe('routes Nest did not register', () => {
  it('a route added on the Express instance (e.g. by a GraphQL driver) is named by its template', async () => {
    const running = await start(RawRouteModule, 'express')
    try {
      const response = await fetch(`${running.url}/raw/42`)
      expect(response.status).toBe(200)
      const span = await serverSpan()
      expect(span.name).toBe('GET /raw/:id')
      expect(span.attributes['http.route']).toBe('/raw/:id')
    } finally {
      await running.close()
    }
  })
})
