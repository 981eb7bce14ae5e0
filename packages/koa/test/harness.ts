// Shared by this package's tests: tracing into memory and a real server on 127.0.0.1.
import type { RequestListener, Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
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

export interface Running {
  url: string
  server: Server
  close(): Promise<void>
}

export async function listen(handler: RequestListener): Promise<Running> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * Waits (bounded: 2 s) until `n` spans were exported. Server spans end on the response's
 * 'finish' event, which may come just after the client has read the response.
 */
export async function waitForSpans(n: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 400 && exporter.getFinishedSpans().length < n; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return exporter.getFinishedSpans()
}

/** The one exported SERVER span (kind 1), waiting for it. */
export async function serverSpan(): Promise<ReadableSpan> {
  for (let i = 0; i < 400; i++) {
    const found = exporter.getFinishedSpans().filter((s) => s.kind === 1)
    if (found.length > 1) throw new Error(`expected one server span, found ${found.map((s) => s.name).join(', ')}`)
    if (found[0]) return found[0]
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('no server span was exported within 2 s')
}
