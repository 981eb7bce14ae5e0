/**
 * The SDK never traces its own exports: with outgoing node:http instrumentation on, an OTLP
 * export made inside an active span produces no CLIENT span and injects no traceparent.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { startSpan, trace } from '../src/api.js'
import { ConsoleExporter } from '../src/export/console.js'
import { MemoryExporter } from '../src/export/memory.js'
import { OtlpExporter } from '../src/export/otlp.js'
import { exportersFromNames } from '../src/export/select.js'
import { XrayExporter } from '../src/export/xray.js'
import { ZipkinExporter } from '../src/export/zipkin.js'
import { SimpleSpanProcessor } from '../src/processor.js'
import { init, shutdown } from '../src/sdk.js'
import { sampleSpans } from './export-sample-spans.js'

describe('exporters and the SDK', () => {
  const memory = new MemoryExporter()
  afterAll(() => shutdown(200))

  it('sends exports untraced, even from inside an active span', async () => {
    const headers: http.IncomingHttpHeaders[] = []
    const sink = http.createServer((req, res) => {
      headers.push(req.headers)
      req.resume()
      req.on('end', () => res.end())
    })
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
    init({
      serviceName: 'self',
      spanProcessors: [new SimpleSpanProcessor(memory)],
      instrument: { http: true, fetch: true },
    })
    const exporter = new OtlpExporter({ endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}` })
    const result = await trace('user work', () => exporter.export(sampleSpans(), new AbortController().signal))
    // a control request from user code in a span IS traced, so the instrumentation is on
    await trace(
      'user call',
      () =>
        new Promise<void>((resolve) => {
          http.get(`http://127.0.0.1:${(sink.address() as AddressInfo).port}/user`, (res) =>
            res.resume().on('end', resolve),
          )
        }),
    )
    startSpan('flush marker').end()
    await exporter.shutdown()
    await new Promise((r) => sink.close(r))
    expect(result).toEqual({ ok: true })
    expect(headers[0]?.traceparent).toBeUndefined()
    const names = memory.getFinishedSpans().map((s) => s.name)
    expect(names).toContain('user work')
    expect(names.filter((n) => n.startsWith('POST'))).toEqual([])
    expect(headers[1]?.traceparent).toBeDefined()
  })

  it('builds exporters from OTEL_TRACES_EXPORTER names', () => {
    const list = exportersFromNames(['otlp', 'Zipkin', ' xray ', 'console', 'none', 'bogus'])
    expect(list.map((e) => e.constructor)).toEqual([OtlpExporter, ZipkinExporter, XrayExporter, ConsoleExporter])
    expect(exportersFromNames(['none'])).toEqual([])
  })
})
