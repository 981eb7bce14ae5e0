// Shared by this package's tests: tracing into memory and real Nest applications on 127.0.0.1.
import 'reflect-metadata'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { INestApplication } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { init, MemoryExporter, type ReadableSpan, shutdown } from '@threadline/core'
import { afterAll, afterEach, beforeAll } from 'vitest'

export const exporter = new MemoryExporter()

/** Starts tracing into `exporter` (every span exported as it ends) for the calling test file. */
export function useTracing(): void {
  beforeAll(() => {
    init({ serviceName: 'test', exporter, batch: false, propagators: ['tracecontext', 'baggage'] })
  })
  afterEach(() => exporter.reset())
  afterAll(() => shutdown())
}

export type Platform = 'express' | 'fastify'
export const platforms: Platform[] = ['express', 'fastify']

export interface Running {
  app: INestApplication
  url: string
  close(): Promise<void>
}

/** Creates the application on `platform`, lets `setup` configure it, and listens on 127.0.0.1. */
export async function start(
  module: unknown,
  platform: Platform,
  setup?: (app: INestApplication) => void,
): Promise<Running> {
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  const app = await NestFactory.create(module as never, adapter as never, { logger: false, abortOnError: false })
  setup?.(app)
  await app.listen(0, '127.0.0.1')
  const { port } = app.getHttpServer().address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() }
}

/** The exported SERVER span (kind 1) of one request, waiting (bounded: 2 s) for it to end. */
export async function serverSpan(): Promise<ReadableSpan> {
  for (let i = 0; i < 400; i++) {
    const found = exporter.getFinishedSpans().filter((s) => s.kind === 1)
    if (found.length > 1) throw new Error(`expected one server span, found ${found.map((s) => s.name).join(', ')}`)
    if (found[0]) return found[0]
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('no server span was exported within 2 s')
}

/** Every span of the server span's trace once the server span has ended. */
export async function requestSpans(): Promise<{ server: ReadableSpan; spans: ReadableSpan[] }> {
  const server = await serverSpan()
  return { server, spans: exporter.trace(server.spanContext().traceId) }
}

export function childrenOf(parent: ReadableSpan, spans: ReadableSpan[]): ReadableSpan[] {
  const id = parent.spanContext().spanId
  return spans.filter((s) => s.parentSpanContext?.spanId === id)
}

export function exceptionEvents(span: ReadableSpan) {
  return span.events.filter((e) => e.name === 'exception')
}

/** Listens with a plain Node server for `handler` (e.g. an Express app) on 127.0.0.1. */
export async function listenExpress(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
