/**
 * `init({ shutdownOn: [...] })`: on SIGTERM (or beforeExit) what is still queued is flushed to
 * the backend before the process goes, within the shutdown deadline; then SIGTERM is re-raised.
 * The signal is emitted in-process and `process.kill` is replaced for the test, so the re-raise
 * is observed instead of ending the test runner's worker.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { startSpan } from '../src/api.js'
import { OtlpExporter } from '../src/export/otlp.js'
import { decodeTraceRequestProto } from '../src/otlp/decode-proto.js'
import { init, isStarted, shutdown } from '../src/sdk.js'

describe('shutdown on a signal flushes queued spans', () => {
  const bodies: Buffer[] = []
  const sink = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks))
      res.end()
    })
  })
  afterAll(async () => {
    await shutdown(100)
    await new Promise((r) => sink.close(r))
  })

  const spansReceived = () =>
    bodies.reduce((n, body) => {
      const decoded = decodeTraceRequestProto(body)
      return (
        n + (decoded.ok ? decoded.request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length : 0)
      )
    }, 0)

  for (const signal of ['SIGTERM', 'beforeExit'] as const) {
    it(`on ${signal}`, async () => {
      if (!sink.listening) await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
      bodies.length = 0
      const kills: Array<[number, string | number | undefined]> = []
      const realKill = process.kill
      process.kill = ((pid: number, sig?: string | number) => {
        kills.push([pid, sig])
        return true
      }) as typeof process.kill
      try {
        init({
          serviceName: 'draining',
          exporter: new OtlpExporter({ endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}` }),
          batch: { scheduledDelayMs: 60_000 }, // nothing would leave before the signal
          shutdownOn: [signal],
          propagators: ['none'],
          instrument: { fetch: false, http: false },
        })
        for (let i = 0; i < 100; i++) startSpan(`job ${i}`).end()
        expect(bodies).toHaveLength(0)
        process.emit(signal as 'SIGTERM')
        const finished = () => spansReceived() >= 100 && !isStarted() && (signal !== 'SIGTERM' || kills.length > 0)
        for (let i = 0; i < 500 && !finished(); i++) await new Promise((r) => setTimeout(r, 10))
        expect(spansReceived()).toBe(100)
        expect(isStarted()).toBe(false)
        // SIGTERM is re-raised once flushed (nobody else listens), so the process ends as it would have
        expect(kills).toEqual(signal === 'SIGTERM' ? [[process.pid, 'SIGTERM']] : [])
      } finally {
        process.kill = realKill
      }
    })
  }
})
