/**
 * The OTLP exporter against real loopback servers that misbehave in each way a backend can:
 * refuses, never answers, answers slowly, 5xx, 429/503 with Retry-After, closes mid-response, 400.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { setDiagLogger } from '../src/diag.js'
import { OtlpExporter, type OtlpExporterOptions, resolveOtlpConfig } from '../src/export/otlp.js'
import { decodeTraceRequestJson } from '../src/otlp/decode-json.js'
import { decodeTraceRequestProto } from '../src/otlp/decode-proto.js'
import { sampleSpans } from './export-sample-spans.js'

interface Received {
  at: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  url: string
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, attempt: number) => void

const servers: http.Server[] = []
const exporters: OtlpExporter[] = []

afterEach(async () => {
  for (const e of exporters.splice(0)) await e.shutdown()
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

async function sink(handler: Handler): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? '' })
      handler(req, res, received.length)
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

function exporter(options: OtlpExporterOptions): OtlpExporter {
  const e = new OtlpExporter({ retry: { initialBackoffMs: 10, maxBackoffMs: 50 }, ...options })
  exporters.push(e)
  return e
}

async function freePort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('OTLP exporter: the happy path', () => {
  it('POSTs protobuf to {endpoint}/v1/traces, which an OTLP decoder reads back', async () => {
    const { url, received } = await sink((_req, res) => res.end())
    const result = await exporter({ endpoint: `${url}/` }).export(sampleSpans(), new AbortController().signal)
    expect(result).toEqual({ ok: true })
    expect(received).toHaveLength(1)
    expect(received[0]?.url).toBe('/v1/traces')
    expect(received[0]?.headers['content-type']).toBe('application/x-protobuf')
    expect(received[0]?.headers['user-agent']).toMatch(/^threadline-core\//)
    const decoded = decodeTraceRequestProto(received[0]!.body)
    expect(
      decoded.ok && decoded.request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length,
    ).toBe(4)
  })

  it('sends http/json gzipped when asked, with headers from options and the environment', async () => {
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-tenant=acme,authorization=Bearer%20abc'
    process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'x-tenant=traces-team'
    try {
      const { url, received } = await sink((_req, res) => res.end('{}'))
      const e = exporter({
        url: `${url}/custom/path`,
        protocol: 'http/json',
        compression: 'gzip',
        headers: { 'X-Extra': '1' },
      })
      expect(await e.export(sampleSpans(), new AbortController().signal)).toEqual({ ok: true })
      const r = received[0]!
      expect(r.url).toBe('/custom/path')
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers['content-encoding']).toBe('gzip')
      expect(r.headers['x-tenant']).toBe('traces-team') // TRACES_ variable wins over the generic one
      expect(r.headers.authorization).toBe('Bearer abc') // percent-decoded
      expect(r.headers['x-extra']).toBe('1')
      const decoded = decodeTraceRequestJson(gunzipSync(r.body).toString('utf8'))
      expect(decoded.ok).toBe(true)
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_HEADERS
      delete process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS
    }
  })

  it('reads endpoint, protocol, timeout and compression from OTEL_EXPORTER_OTLP_* (TRACES_ first)', () => {
    const saved = { ...process.env }
    try {
      expect(resolveOtlpConfig().url.href).toBe('http://localhost:4318/v1/traces')
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://collector:4318/base/'
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json'
      process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '1234'
      process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip'
      expect(resolveOtlpConfig()).toMatchObject({ protocol: 'http/json', timeoutMs: 1234, compression: 'gzip' })
      expect(resolveOtlpConfig().url.href).toBe('http://collector:4318/base/v1/traces')
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'https://tempo:443/otlp/traces'
      process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/protobuf'
      expect(resolveOtlpConfig()).toMatchObject({ protocol: 'http/protobuf' })
      expect(resolveOtlpConfig().url.href).toBe('https://tempo/otlp/traces') // used as is
      expect(resolveOtlpConfig({ endpoint: 'http://mine:1' }).url.href).toBe('http://mine:1/v1/traces') // code wins
      process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'grpc'
      expect(resolveOtlpConfig().protocol).toBe('http/protobuf') // unsupported: warned, default
    } finally {
      process.env = saved
    }
  })
})

describe('OTLP exporter: faults', () => {
  it('endpoint refuses connections: retried, then a retryable failure that names the address', async () => {
    const port = await freePort()
    const result = await exporter({
      endpoint: `http://127.0.0.1:${port}`,
      timeoutMs: 2000,
      retry: { initialBackoffMs: 5, maxAttempts: 3 },
    }).export(sampleSpans(), new AbortController().signal)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.retryable).toBe(true)
      expect(result.error.message).toContain(`127.0.0.1:${port}/v1/traces`)
      expect(result.error.message).toContain('ECONNREFUSED')
    }
  })

  it('accepts and never answers: gives up at the exporter timeout', async () => {
    const { url, received } = await sink(() => {}) // never responds
    const result = await exporter({ endpoint: url, timeoutMs: 300 }).export(sampleSpans(), new AbortController().signal)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.message).toMatch(/no answer within/)
    expect(received.length).toBeGreaterThanOrEqual(1)
  })

  it('answers slowly but within the timeout: succeeds on the first attempt', async () => {
    const { url, received } = await sink((_req, res) => setTimeout(() => res.end(), 200))
    const result = await exporter({ endpoint: url, timeoutMs: 5000 }).export(
      sampleSpans(),
      new AbortController().signal,
    )
    expect(result).toEqual({ ok: true })
    expect(received).toHaveLength(1)
  })

  it('answers 502 then 504 then 200: retried until it succeeds', async () => {
    const { url, received } = await sink((_req, res, n) => {
      res.statusCode = n === 1 ? 502 : n === 2 ? 504 : 200
      res.end()
    })
    expect(await exporter({ endpoint: url }).export(sampleSpans(), new AbortController().signal)).toEqual({ ok: true })
    expect(received).toHaveLength(3)
    expect(received[2]?.body.equals(received[0]!.body)).toBe(true) // the same batch is resent
  })

  it('answers 500: a failure the OTLP spec does not retry', async () => {
    const { url, received } = await sink((_req, res) => {
      res.statusCode = 500
      res.end('database on fire')
    })
    const result = await exporter({ endpoint: url }).export(sampleSpans(), new AbortController().signal)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.message).toMatch(/answered 500 .*database on fire/)
    expect(received).toHaveLength(1)
  })

  it('answers 429 and 503 with Retry-After: waits that long before the next attempt', async () => {
    const { url, received } = await sink((_req, res, n) => {
      if (n <= 2) {
        res.statusCode = n === 1 ? 429 : 503
        res.setHeader('retry-after', '1')
      }
      res.end()
    })
    const result = await exporter({ endpoint: url, timeoutMs: 10_000 }).export(
      sampleSpans(),
      new AbortController().signal,
    )
    expect(result).toEqual({ ok: true })
    expect(received).toHaveLength(3)
    // Retry-After: 1 (seconds) is a lower bound on the gap; backoff alone would be ~10 ms
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(950)
    expect(received[2]!.at - received[1]!.at).toBeGreaterThanOrEqual(950)
  })

  it('gives up at once when Retry-After is beyond the export timeout', async () => {
    const { url, received } = await sink((_req, res) => {
      res.statusCode = 503
      res.setHeader('retry-after', '3600')
      res.end()
    })
    const result = await exporter({ endpoint: url, timeoutMs: 2000 }).export(
      sampleSpans(),
      new AbortController().signal,
    )
    expect(result).toMatchObject({ ok: false, retryable: true })
    expect(received).toHaveLength(1)
  })

  it('closes the connection mid-response: retried', async () => {
    const { url, received } = await sink((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': '100' })
        res.write('partial')
        setTimeout(() => res.socket?.destroy(), 20)
        return
      }
      res.end()
    })
    expect(await exporter({ endpoint: url }).export(sampleSpans(), new AbortController().signal)).toEqual({ ok: true })
    expect(received).toHaveLength(2)
  })

  it('answers 400: permanent, not retried, with the reason in the error', async () => {
    const { url, received } = await sink((_req, res) => {
      res.statusCode = 400
      res.end('invalid trace id')
    })
    const result = await exporter({ endpoint: url }).export(sampleSpans(), new AbortController().signal)
    expect(result).toMatchObject({ ok: false, retryable: false })
    if (!result.ok) expect(result.error.message).toMatch(/answered 400 .*invalid trace id.*not retried/)
    expect(received).toHaveLength(1)
  })

  it("stops retrying when the processor's AbortSignal fires", async () => {
    const port = await freePort()
    const controller = new AbortController()
    const e = exporter({
      endpoint: `http://127.0.0.1:${port}`,
      timeoutMs: 60_000,
      retry: { initialBackoffMs: 200, maxAttempts: 1000 },
    })
    const pending = e.export(sampleSpans(), controller.signal)
    setTimeout(() => controller.abort(new Error('export timed out after 100 ms')), 100)
    const result = await pending
    expect(result.ok).toBe(false)
  })

  it('refuses exports after shutdown without touching the network', async () => {
    const { url, received } = await sink((_req, res) => res.end())
    const e = exporter({ endpoint: url })
    await e.shutdown()
    expect(await e.export(sampleSpans(), new AbortController().signal)).toMatchObject({ ok: false, retryable: false })
    expect(received).toHaveLength(0)
  })

  it('warns about an OTLP partial success (protobuf and JSON responses), without retrying', async () => {
    const warnings: string[] = []
    setDiagLogger((_level, code, message) => warnings.push(`${code}: ${message}`))
    try {
      // ExportTraceServiceResponse{partial_success{rejected_spans: 3, error_message: "bad ids"}}
      const message = Buffer.from('bad ids')
      const inner = Buffer.from([0x08, 0x03, 0x12, message.length, ...message])
      const proto = Buffer.from([0x0a, inner.length, ...inner])
      const { url, received } = await sink((_req, res) => {
        res.setHeader('content-type', 'application/x-protobuf')
        res.end(proto)
      })
      expect(await exporter({ endpoint: url }).export(sampleSpans(), new AbortController().signal)).toEqual({
        ok: true,
      })
      expect(received).toHaveLength(1)
      expect(warnings).toContain('TL_ERR_OTLP_PARTIAL_SUCCESS: the OTLP receiver rejected 3 span(s): bad ids')
      warnings.length = 0
      const { diag } = await import('../src/diag.js')
      diag.reset()
      const json = await sink((_req, res) => {
        res.setHeader('content-type', 'application/json')
        res.end('{"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}}')
      })
      const e = exporter({ endpoint: json.url, protocol: 'http/json' })
      expect(await e.export(sampleSpans(), new AbortController().signal)).toEqual({ ok: true })
      expect(warnings).toContain('TL_ERR_OTLP_PARTIAL_SUCCESS: the OTLP receiver rejected 2 span(s): too old')
    } finally {
      setDiagLogger(undefined)
    }
  })
})
