// The request lifecycle of a traced Nest application, on Express and on Fastify: route naming,
// context, guards, errors in each stage, and (with pipelineSpans) the enhancers' own spans.
// http.test.ts and pipeline.test.ts run it on the root's Nest; versions.test.ts runs a copy per
// older major (`./lifecycle.js?nest=10`, see nest-versions.ts).
import { type ArgumentsHost, Catch, type INestApplication, Module, VersioningType } from '@nestjs/common'
import { afterEach, describe, expect, it } from 'vitest'
import { TracingModule } from '../src/index.js'
import {
  AsyncGuard,
  AuthGuard,
  CatsController,
  CatsService,
  DogsController,
  ExplodingPipe,
  ObservableGuard,
  PipelineController,
  SecureController,
  TeapotFilter,
  WrapInterceptor,
} from './app.js'
import {
  childrenOf,
  exceptionEvents,
  exporter,
  type Platform,
  platforms,
  type Running,
  requestSpans,
  serverSpan,
  start,
} from './harness.js'

// which Nest a copy of this file loaded (versions.test.ts checks it is the fixture's)
export { NestFactory } from '@nestjs/core'
export { useTracing } from './harness.js'

@Module({
  imports: [TracingModule.forRoot({ serviceName: 'catalog' })],
  controllers: [CatsController, DogsController, SecureController, PipelineController],
  providers: [CatsService, AuthGuard, AsyncGuard, ObservableGuard, ExplodingPipe, WrapInterceptor, TeapotFilter],
})
class AppModule {}

@Module({
  imports: [TracingModule.forRoot({ serviceName: 'catalog', pipelineSpans: true })],
  controllers: [CatsController, SecureController, PipelineController],
  providers: [CatsService, AuthGuard, AsyncGuard, ObservableGuard, ExplodingPipe, WrapInterceptor, TeapotFilter],
})
class PipelineSpansModule {}

/** A server span per request, named by route, with its errors and guard decisions. */
export function describeLifecycle(): void {
  describe.each(platforms)('on platform-%s', (platform: Platform) => {
    let running: Running | undefined
    afterEach(async () => {
      await running?.close()
      running = undefined
    })

    async function app(prefix = 'api', setup?: (a: INestApplication) => void) {
      running = await start(AppModule, platform, (a) => {
        if (prefix) a.setGlobalPrefix(prefix)
        a.enableVersioning({ type: VersioningType.URI })
        setup?.(a)
      })
      return running.url
    }

    describe('route naming', () => {
      it.each([
        ['/api/cats', 'GET /api/cats', 200],
        ['/api/cats/7', 'GET /api/cats/:id', 200],
        ['/api/cats/watch', 'GET /api/cats/watch', 200],
        ['/api/cats/owners/ann/cats/tom', 'GET /api/cats/owners/:owner/cats/:name', 200],
        ['/api/v2/dogs/rex', 'GET /api/v2/dogs/:id', 200],
        ['/api/v3/dogs', 'GET /api/v3/dogs', 200],
      ])('%s is named %s', async (path, name, status) => {
        const url = await app()
        const res = await fetch(url + path)
        expect(res.status).toBe(status)
        const span = await serverSpan()
        expect(span.name).toBe(name)
        expect(span.attributes['http.route']).toBe(name.slice(4))
        expect(span.attributes['url.path']).toBe(path)
        expect(span.attributes['http.response.status_code']).toBe(status)
        expect(span.attributes['http.request.method']).toBe('GET')
        expect(span.attributes['server.address']).toBe('127.0.0.1')
        expect(span.status.code).toBe(0)
      })

      it('@Traced() on a controller keeps its routes and times each handler', async () => {
        const url = await app()
        const res = await fetch(`${url}/api/v2/dogs/rex`)
        expect(await res.json()).toEqual({ id: 'rex' })
        const { server, spans } = await requestSpans()
        expect(server.name).toBe('GET /api/v2/dogs/:id')
        expect(childrenOf(server, spans).map((s) => s.name)).toEqual(['DogsController.findOne'])
      })

      it('records the controller and handler', async () => {
        const url = await app()
        await fetch(`${url}/api/cats/7`)
        const span = await serverSpan()
        expect(span.attributes['nestjs.controller']).toBe('CatsController')
        expect(span.attributes['nestjs.handler']).toBe('findOne')
      })

      it('names a POST by its route', async () => {
        const url = await app('')
        const res = await fetch(`${url}/cats`, {
          method: 'POST',
          body: '{"a":1}',
          headers: { 'content-type': 'application/json' },
        })
        expect(res.status).toBe(201)
        const span = await serverSpan()
        expect(span.name).toBe('POST /cats')
      })

      it('leaves an unmatched request as the method alone (404, not an error)', async () => {
        const url = await app()
        const res = await fetch(`${url}/nowhere/42`)
        expect(res.status).toBe(404)
        const span = await serverSpan()
        expect(span.name).toBe('GET')
        expect(span.attributes['http.route']).toBeUndefined()
        expect(span.status.code).toBe(0)
      })

      it('traces requests outside the global prefix too', async () => {
        const url = await app()
        await fetch(`${url}/cats`)
        expect((await serverSpan()).attributes['url.path']).toBe('/cats')
      })
    })

    describe('context', () => {
      it('continues the trace of an incoming traceparent', async () => {
        const url = await app()
        const traceId = '0af7651916cd43dd8448eb211c80319c'
        await fetch(`${url}/api/cats`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } })
        const span = await serverSpan()
        expect(span.spanContext().traceId).toBe(traceId)
        expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331')
      })

      it('makes the server span active in handlers and services (@Traced children)', async () => {
        const url = await app()
        await fetch(`${url}/api/cats`)
        const { server, spans } = await requestSpans()
        expect(server.attributes['app.cats']).toBe(2)
        const children = childrenOf(server, spans).map((s) => s.name)
        expect(children).toEqual(['cats.count', 'CatsService.findAll'])
        for (const s of childrenOf(server, spans)) expect(s.kind).toBe(0)
      })

      it('times async and Observable @Traced methods', async () => {
        const url = await app()
        await fetch(`${url}/api/cats/3`)
        const one = await requestSpans()
        const findOne = one.spans.find((s) => s.name === 'CatsService.findOne')
        expect(findOne?.parentSpanContext?.spanId).toBe(one.server.spanContext().spanId)
        exporter.reset()
        const res = await fetch(`${url}/api/cats/watch`)
        expect(await res.text()).toBe('meow')
        const watch = await requestSpans()
        const span = watch.spans.find((s) => s.name === 'CatsService.watch')
        expect(span?.parentSpanContext?.spanId).toBe(watch.server.spanContext().spanId)
        expect(span!.endTime).toBeLessThanOrEqual(watch.server.endTime)
      })
    })

    describe('guards', () => {
      it('a request the guard refuses is a complete, named span with the guard recorded (403 is not an error)', async () => {
        const url = await app()
        const res = await fetch(`${url}/api/secure/data`)
        expect(res.status).toBe(403)
        const span = await serverSpan()
        expect(span.name).toBe('GET /api/secure/data')
        expect(span.attributes['http.response.status_code']).toBe(403)
        expect(span.attributes['nestjs.guard.rejected']).toBe('AuthGuard')
        expect(span.attributes['nestjs.controller']).toBe('SecureController')
        expect(span.status.code).toBe(0)
        expect(exceptionEvents(span)).toHaveLength(0)
      })

      it('a global guard of the application that refuses is recorded too, and the span is named', async () => {
        const url = await app('api', (a) =>
          a.useGlobalGuards({ canActivate: (ctx) => !ctx.switchToHttp().getRequest().headers['x-block'] }),
        )
        const res = await fetch(`${url}/api/cats/1`, { headers: { 'x-block': '1' } })
        expect(res.status).toBe(403)
        const span = await serverSpan()
        expect(span.name).toBe('GET /api/cats/:id')
        expect(span.attributes['nestjs.guard.rejected']).toBe('Object')
      })

      it('a guard that answers with an Observable: its last value decides, and a refusal is recorded', async () => {
        const url = await app()
        const refused = await fetch(`${url}/api/pipeline/observed`)
        expect(refused.status).toBe(403)
        const span = await serverSpan()
        expect(span.name).toBe('GET /api/pipeline/observed')
        expect(span.attributes['nestjs.guard.rejected']).toBe('ObservableGuard')
        expect(span.status.code).toBe(0)
        exporter.reset()
        const allowed = await fetch(`${url}/api/pipeline/observed`, { headers: { 'x-token': 'secret' } })
        expect(await allowed.json()).toEqual({ observed: true })
        expect((await serverSpan()).attributes['nestjs.guard.rejected']).toBeUndefined()
      })

      it('a request the guard lets through has no rejection', async () => {
        const url = await app()
        const res = await fetch(`${url}/api/secure/slow/1`, { headers: { 'x-token': 'secret' } })
        expect(res.status).toBe(200)
        const span = await serverSpan()
        expect(span.name).toBe('GET /api/secure/slow/:id')
        expect(span.attributes['nestjs.guard.rejected']).toBeUndefined()
      })
    })

    describe('errors in each stage', () => {
      it.each([
        ['guard', '/api/secure/data', { 'x-explode': 'guard' }, 'the guard exploded', 'GET /api/secure/data'],
        ['pipe', '/api/pipeline/pipe/boom', {}, 'the pipe exploded', 'GET /api/pipeline/pipe/:value'],
        [
          'interceptor',
          '/api/pipeline/intercepted',
          { 'x-explode': 'interceptor' },
          'the interceptor exploded',
          'GET /api/pipeline/intercepted',
        ],
        ['handler', '/api/pipeline/handler-error', {}, 'the handler exploded', 'GET /api/pipeline/handler-error'],
        ['service', '/api/cats/500', {}, 'the cat database is down', 'GET /api/cats/:id'],
      ])('an error thrown in the %s is recorded with its stack (500)', async (_stage, path, headers, message, name) => {
        const url = await app()
        const res = await fetch(url + path, { headers })
        expect(res.status).toBe(500)
        const span = await serverSpan()
        expect(span.name).toBe(name)
        expect(span.status.code).toBe(2)
        expect(span.status.message).toBe(message)
        expect(span.attributes['error.type']).toBe('Error')
        const [event] = exceptionEvents(span)
        expect(event?.attributes['exception.message']).toBe(message)
        expect(String(event?.attributes['exception.stacktrace'])).toContain('app.ts')
      })

      it('a 5xx HttpException is an error', async () => {
        const url = await app()
        expect((await fetch(`${url}/api/pipeline/http-500`)).status).toBe(502)
        const span = await serverSpan()
        expect(span.status.code).toBe(2)
        expect(exceptionEvents(span)[0]?.attributes['exception.message']).toBe('upstream broke')
      })

      it.each([
        ['/api/pipeline/bad', 400],
        ['/api/cats/404', 404],
        ['/api/cats/abc', 400],
      ])('a 4xx HttpException (%s) is not a server error', async (path, status) => {
        const url = await app()
        expect((await fetch(url + path)).status).toBe(status)
        const span = await serverSpan()
        expect(span.status.code).toBe(0)
        expect(exceptionEvents(span)).toHaveLength(0)
      })

      it("the application's own catch-all global filter still answers, and the error is recorded", async () => {
        @Catch()
        class CatchAll {
          catch(_e: unknown, host: ArgumentsHost) {
            const res = host.switchToHttp().getResponse()
            if (typeof res.code === 'function') res.code(599).send('caught')
            else res.status(599).send('caught')
          }
        }
        const url = await app('api', (a) => a.useGlobalFilters(new CatchAll()))
        const res = await fetch(`${url}/api/pipeline/handler-error`)
        expect(res.status).toBe(599)
        expect(await res.text()).toBe('caught')
        const span = await serverSpan()
        expect(span.status.code).toBe(2)
        expect(exceptionEvents(span)[0]?.attributes['exception.message']).toBe('the handler exploded')
      })

      it('an error an exception filter turns into a response is still recorded', async () => {
        const url = await app()
        const res = await fetch(`${url}/api/pipeline/filtered`)
        expect(res.status).toBe(503)
        expect(await res.json()).toEqual({ teapot: true })
        const span = await serverSpan()
        expect(span.name).toBe('GET /api/pipeline/filtered')
        expect(span.status.code).toBe(2)
        expect(exceptionEvents(span)[0]?.attributes['exception.message']).toBe('short and stout')
      })
    })
  })
}

/** With `pipelineSpans`, an INTERNAL span per guard, pipe, interceptor and filter call. */
export function describePipelineSpans(): void {
  describe.each(platforms)('pipelineSpans on platform-%s', (platform: Platform) => {
    let running: Running | undefined
    afterEach(async () => {
      await running?.close()
      exporter.reset()
      running = undefined
    })

    async function get(path: string, headers: Record<string, string> = {}) {
      running = await start(PipelineSpansModule, platform, (a) => {
        a.setGlobalPrefix('api')
        a.enableVersioning({ type: VersioningType.URI })
      })
      const res = await fetch(running.url + path, { headers })
      await res.arrayBuffer()
      const { server, spans } = await requestSpans()
      const children = childrenOf(server, spans)
      return { res, server, children, names: children.map((s) => s.name) }
    }

    it('times each guard, named by class, inside the server span', async () => {
      const { names, children } = await get('/api/secure/slow/2', { 'x-token': 'secret' })
      expect(names).toEqual(['AuthGuard', 'AsyncGuard'])
      for (const s of children) {
        expect(s.kind).toBe(0)
        expect(s.attributes['nestjs.type']).toBe('guard')
      }
    })

    it('marks the guard that refused the request on its span too', async () => {
      const { res, names, children, server } = await get('/api/secure/data')
      expect(res.status).toBe(403)
      expect(names).toEqual(['AuthGuard'])
      expect(children[0]?.attributes['nestjs.guard.rejected']).toBe('AuthGuard')
      expect(server.name).toBe('GET /api/secure/data')
    })

    it('a guard that throws is an error span', async () => {
      const { children } = await get('/api/secure/data', { 'x-explode': 'guard' })
      expect(children[0]?.status.code).toBe(2)
      expect(children[0]?.events[0]?.attributes['exception.message']).toBe('the guard exploded')
    })

    it('times pipes and both halves of an interceptor', async () => {
      const pipe = await get('/api/cats/7')
      expect(pipe.names).toContain('ParseIntPipe')
      await running?.close()
      exporter.reset()
      const intercepted = await get('/api/pipeline/intercepted')
      expect(intercepted.names).toEqual(['WrapInterceptor', 'WrapInterceptor (after)'])
      const [before, after] = intercepted.children
      expect(before!.endTime).toBeLessThanOrEqual(after!.startTime)
    })

    it('a pipe that throws is an error span; a 4xx from a pipe is not', async () => {
      const boom = await get('/api/pipeline/pipe/boom')
      const span = boom.children.find((s) => s.name === 'ExplodingPipe')
      expect(span?.status.code).toBe(2)
      await running?.close()
      exporter.reset()
      const bad = await get('/api/cats/abc')
      const parse = bad.children.find((s) => s.name === 'ParseIntPipe')
      expect(bad.res.status).toBe(400)
      expect(parse?.status.code).toBe(0)
      expect(parse?.events[0]?.name).toBe('exception')
    })

    it('times the exception filter that answers', async () => {
      const { res, names, server } = await get('/api/pipeline/filtered')
      expect(res.status).toBe(503)
      expect(names).toEqual(['TeapotFilter'])
      expect(server.status.code).toBe(2)
    })
  })
}
