import { Module, VersioningType } from '@nestjs/common'
import { afterEach, describe, expect, it } from 'vitest'
import { TracingModule } from '../src/index.js'
import {
  AsyncGuard,
  AuthGuard,
  CatsController,
  CatsService,
  ExplodingPipe,
  PipelineController,
  SecureController,
  TeapotFilter,
  WrapInterceptor,
} from './app.js'
import {
  childrenOf,
  exporter,
  type Platform,
  platforms,
  type Running,
  requestSpans,
  start,
  useTracing,
} from './harness.js'

useTracing()

@Module({
  imports: [TracingModule.forRoot({ serviceName: 'catalog', pipelineSpans: true })],
  controllers: [CatsController, SecureController, PipelineController],
  providers: [CatsService, AuthGuard, AsyncGuard, ExplodingPipe, WrapInterceptor, TeapotFilter],
})
class AppModule {}

describe.each(platforms)('pipelineSpans on platform-%s', (platform: Platform) => {
  let running: Running | undefined
  afterEach(async () => {
    await running?.close()
    exporter.reset()
    running = undefined
  })

  async function get(path: string, headers: Record<string, string> = {}) {
    running = await start(AppModule, platform, (a) => {
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
