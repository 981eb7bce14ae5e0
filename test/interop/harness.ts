// Shared pieces of the cross-tracer tests: loopback servers, a Zipkin v2 JSON collector and a
// bounded wait for spans that peers export asynchronously (never a fixed sleep).
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ReadableSpan } from '@threadline/core'

export interface Running {
  url: string
  port: number
  close(): Promise<void>
}

/** Serves `handler` (a Node listener, an Express app or a Koa callback) on 127.0.0.1, random port. */
export async function listen(handler: RequestListener): Promise<Running> {
  const server = createServer(handler)
  server.keepAliveTimeout = 100
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Polls `read` until `done` holds; the test's own timeout is the only bound. */
export async function waitFor<T>(read: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read()
    if (done(value)) return value
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A Zipkin v2 span as zipkin-js (JSON_V2) and the Zipkin API write it. */
export interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  name?: string
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER'
  timestamp?: number
  duration?: number
  shared?: boolean
  localEndpoint?: { serviceName?: string }
  tags?: Record<string, string>
}

/** A loopback Zipkin collector (`POST /api/v2/spans`). */
export async function startZipkinCollector(): Promise<Running & { spans: ZipkinSpan[] }> {
  const spans: ZipkinSpan[] = []
  const running = await listen(async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req)
    spans.push(...(JSON.parse(body.toString('utf8')) as ZipkinSpan[]))
    res.writeHead(202).end()
  })
  return { ...running, spans }
}

/** Zipkin treats a 128-bit id whose high half is zero as the 64-bit id (zipkin2 Span.normalizeTraceId). */
export function normalizeTraceId(id: string): string {
  return id.length === 32 && id.startsWith('0000000000000000') ? id.slice(16) : id
}

export function one<T>(items: readonly T[], predicate: (item: T) => boolean, what: string): T {
  const found = items.filter(predicate)
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`)
  return found[0] as T
}

export function named(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  return one(
    spans,
    (s) => s.name === name,
    `Threadline span named "${name}" (have: ${spans.map((s) => s.name).join(', ')})`,
  )
}
