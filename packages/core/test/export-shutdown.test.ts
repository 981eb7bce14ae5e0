/**
 * `init({ shutdownOn: [...] })`: on SIGTERM (or beforeExit) what is still queued is flushed to
 * the backend before the process goes, within the shutdown deadline. The signal is emitted
 * in-process with a listener of the test's own, so the SDK does not re-raise it at the runner.
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
      const own = () => {}
      process.on(signal, own)
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
        for (let i = 0; i < 300 && (spansReceived() < 100 || isStarted()); i++)
          await new Promise((r) => setTimeout(r, 10))
        expect(spansReceived()).toBe(100)
        expect(isStarted()).toBe(false)
      } finally {
        process.off(signal, own)
      }
    })
  }
})
