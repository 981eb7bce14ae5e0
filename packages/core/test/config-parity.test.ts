/**
 * Config parity with OpenTelemetry's SDK environment variables (specification/configuration/
 * sdk-environment-variables.md and protocol/exporter.md), one row per variable of the table in
 * docs/configuration.md: each honoured variable is set with vi.stubEnv and its effect observed
 * where a user would see it (the resource, a sampling decision, injected headers, batches reaching
 * an exporter, the OTLP or Zipkin request arriving at a loopback server); the ones Threadline does
 * not honour are `it.todo` with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { gunzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  BatchSpanProcessor,
  extract,
  forceFlush,
  init,
  inject,
  MemoryExporter,
  OtlpExporter,
  type ReadableSpan,
  type SpanExporter,
  setDiagLogger,
  shutdown,
  startSpan,
  stats,
  trace,
} from '../src/index.js'
import { decodeTraceRequestJson, decodeTraceRequestProto } from '../src/otlp/index.js'

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: Buffer
}

interface Sink {
  url: string
  requests: Received[]
  close(): Promise<void>
}

const sinks: Sink[] = []

/** A loopback HTTP server recording each request; `answer: false` never responds (for timeouts). */
async function startSink(answer = true): Promise<Sink> {
  const requests: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      if (answer) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const sink = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  sinks.push(sink)
  return sink
}

// Rows provoke drops and failed exports on purpose: keep their warnings out of the test output.
beforeEach(() => setDiagLogger(() => {}))
afterEach(async () => {
  setDiagLogger(undefined)
  await shutdown(1000)
  vi.unstubAllEnvs()
  vi.useRealTimers()
  for (const s of sinks.splice(0)) await s.close()
})

/** Starts the SDK from the environment only (plus an exporter where the row needs to read spans). */
function startWithMemory(): MemoryExporter {
  const exporter = new MemoryExporter()
  init({ exporter, batch: false })
  return exporter
}

/** Ends one span through whatever exporter the environment chose, and flushes it. */
async function exportOneSpan(): Promise<void> {
  init({ batch: false })
  trace('parity', (span) => {
    span.setAttribute('k', 'v')
  })
  await forceFlush()
}

async function waitFor(read: () => boolean): Promise<void> {
  while (!read()) await new Promise((resolve) => setTimeout(resolve, 10))
}

/** Records the size of every batch handed to it. */
function batchRecorder(hang = false): SpanExporter & { batches: number[] } {
  const batches: number[] = []
  return {
    batches,
    export(spans) {
      batches.push(spans.length)
      return hang ? new Promise(() => {}) : Promise.resolve({ ok: true })
    },
    async shutdown() {},
  }
}

function ended(exporter: MemoryExporter, name = 'parity'): ReadableSpan {
  const span = exporter.getFinishedSpans().find((s) => s.name === name)
  if (!span) throw new Error(`no span named ${name}`)
  return span
}

const SAMPLED_PARENT = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }

interface Row {
  env: Record<string, string>
  /** What the user observes. */
  effect: string
  check: () => void | Promise<void>
}

const honoured: Row[] = [
  // General SDK configuration
  {
    env: { OTEL_SDK_DISABLED: 'true' },
    effect: 'no span is recorded or exported',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => expect(span.isRecording()).toBe(false))
      expect(exporter.getFinishedSpans()).toEqual([])
    },
  },
  {
    env: { OTEL_SERVICE_NAME: 'checkout' },
    effect: 'service.name of exported spans',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', () => {})
      expect(ended(exporter).resource.attributes['service.name']).toBe('checkout')
    },
  },
  {
    env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,team=pay%20ments,service.name=attrs' },
    effect: 'resource attributes (percent-decoded) of exported spans',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', () => {})
      const resource = ended(exporter).resource.attributes
      expect(resource['deployment.environment.name']).toBe('staging')
      expect(resource.team).toBe('pay ments')
      expect(resource['service.name']).toBe('attrs')
    },
  },
  {
    env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=attrs', OTEL_SERVICE_NAME: 'wins' },
    effect: 'OTEL_SERVICE_NAME takes precedence over service.name in OTEL_RESOURCE_ATTRIBUTES',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', () => {})
      expect(ended(exporter).resource.attributes['service.name']).toBe('wins')
    },
  },
  {
    env: { OTEL_LOG_LEVEL: 'error' },
    effect: 'warnings are not written, errors are',
    check: async () => {
      vi.resetModules() // the level is read when the module loads
      const fresh = await import('../src/diag.js')
      const lines: string[] = []
      fresh.setDiagLogger((level, code) => lines.push(`${level} ${code}`))
      fresh.diag.warn('TL_ERR_PARITY_WARN', 'w')
      fresh.diag.error('TL_ERR_PARITY_ERROR', 'e')
      expect(lines).toEqual(['error TL_ERR_PARITY_ERROR'])
    },
  },
  {
    env: { OTEL_PROPAGATORS: 'b3multi,jaeger' },
    effect: 'headers injected into an outgoing request',
    check: () => {
      startWithMemory()
      const headers: Record<string, string> = {}
      trace('parity', () => inject(headers))
      expect(Object.keys(headers).sort()).toEqual(['uber-trace-id', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid'])
    },
  },
  {
    env: { OTEL_PROPAGATORS: 'xray' },
    effect: 'X-Amzn-Trace-Id is read from an incoming request',
    check: () => {
      startWithMemory()
      const ctx = extract({
        'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      })
      const span = startSpan('parity', {}, ctx)
      expect(span.spanContext().traceId).toBe('5759e988bd862e3fe1be46a994272793')
      span.end()
    },
  },
  {
    env: { OTEL_PROPAGATORS: 'none' },
    effect: 'nothing is injected, nothing extracted',
    check: () => {
      startWithMemory()
      const headers: Record<string, string> = {}
      trace('parity', () => inject(headers))
      expect(headers).toEqual({})
      expect(startSpan('x', {}, extract(SAMPLED_PARENT)).spanContext().traceId).not.toBe(
        '4bf92f3577b34da6a3ce929d0e0e4736',
      )
    },
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'always_off' },
    effect: 'no span is sampled, even under a sampled parent',
    check: () => {
      startWithMemory()
      expect(startSpan('root').isRecording()).toBe(false)
      expect(startSpan('child', {}, extract(SAMPLED_PARENT)).isRecording()).toBe(false)
    },
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'always_on' },
    effect: 'every span is sampled, even under an unsampled parent',
    check: () => {
      startWithMemory()
      const unsampled = { traceparent: SAMPLED_PARENT.traceparent.replace(/-01$/, '-00') }
      expect(startSpan('child', {}, extract(unsampled)).isRecording()).toBe(true)
    },
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'parentbased_always_off' },
    effect: 'roots are dropped, sampled parents followed',
    check: () => {
      startWithMemory()
      expect(startSpan('root').isRecording()).toBe(false)
      expect(startSpan('child', {}, extract(SAMPLED_PARENT)).isRecording()).toBe(true)
    },
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' },
    effect: 'the decision follows the trace id (low 52 bits against 0.5 × 2^52), not the parent',
    check: () => {
      startWithMemory()
      const low = { traceparent: '00-4bf92f3577b34da6a3c0000000000001-00f067aa0ba902b7-00' }
      const high = { traceparent: '00-4bf92f3577b34da6a3cefffffffffff1-00f067aa0ba902b7-01' }
      expect(startSpan('low', {}, extract(low)).isRecording()).toBe(true)
      expect(startSpan('high', {}, extract(high)).isRecording()).toBe(false)
    },
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
    effect: 'roots dropped at ratio 0, sampled parents followed',
    check: () => {
      startWithMemory()
      expect(startSpan('root').isRecording()).toBe(false)
      expect(startSpan('child', {}, extract(SAMPLED_PARENT)).isRecording()).toBe(true)
    },
  },
  // Batch span processor
  {
    env: { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2' },
    effect: 'batch sizes reaching the exporter',
    check: async () => {
      const exporter = batchRecorder()
      init({ exporter })
      for (let i = 0; i < 5; i++) trace(`s${i}`, () => {})
      await forceFlush()
      expect(exporter.batches).toEqual([2, 2, 1])
    },
  },
  {
    env: { OTEL_BSP_MAX_QUEUE_SIZE: '3' },
    effect: 'spans beyond the queue are dropped and counted',
    check: async () => {
      const exporter = batchRecorder()
      init({ exporter })
      const dropped = stats().spansDropped
      for (let i = 0; i < 5; i++) trace(`s${i}`, () => {})
      await forceFlush()
      expect(exporter.batches).toEqual([3])
      expect(stats().spansDropped - dropped).toBe(2)
    },
  },
  {
    env: { OTEL_BSP_SCHEDULE_DELAY: '1234' },
    effect: 'a partial batch is exported after the delay, not before',
    check: async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      const exporter = batchRecorder()
      init({ exporter })
      trace('s', () => {})
      await vi.advanceTimersByTimeAsync(1233)
      expect(exporter.batches).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(exporter.batches).toEqual([1])
    },
  },
  {
    env: { OTEL_BSP_EXPORT_TIMEOUT: '700', OTEL_BSP_SCHEDULE_DELAY: '10' },
    effect: 'an export that does not finish in time is abandoned and counted as failed',
    check: async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      const exporter = batchRecorder(true)
      init({ exporter })
      const failures = stats().exportFailures
      trace('s', () => {})
      await vi.advanceTimersByTimeAsync(10)
      expect(exporter.batches).toEqual([1])
      await vi.advanceTimersByTimeAsync(699)
      expect(stats().exportFailures).toBe(failures)
      await vi.advanceTimersByTimeAsync(1)
      expect(stats().exportFailures).toBe(failures + 1)
    },
  },
  // Attribute and span limits
  {
    env: { OTEL_ATTRIBUTE_COUNT_LIMIT: '2' },
    effect: 'span attributes beyond the limit are dropped and counted',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => span.setAttributes({ a: 1, b: 2, c: 3 }))
      expect(ended(exporter).attributes).toEqual({ a: 1, b: 2 })
      expect(ended(exporter).droppedAttributesCount).toBe(1)
    },
  },
  {
    env: { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4' },
    effect: 'string values (and strings in arrays) are truncated',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => span.setAttributes({ s: 'abcdefgh', list: ['123456', 'xy'] }))
      expect(ended(exporter).attributes).toEqual({ s: 'abcd', list: ['1234', 'xy'] })
    },
  },
  {
    env: { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '1', OTEL_ATTRIBUTE_COUNT_LIMIT: '5' },
    effect: 'the span-specific count limit wins over the general one',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => span.setAttributes({ a: 1, b: 2 }))
      expect(ended(exporter).attributes).toEqual({ a: 1 })
    },
  },
  {
    env: { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '3', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '6' },
    effect: 'the span-specific length limit wins over the general one',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => span.setAttribute('s', 'abcdefgh'))
      expect(ended(exporter).attributes.s).toBe('abc')
    },
  },
  {
    env: { OTEL_SPAN_EVENT_COUNT_LIMIT: '1' },
    effect: 'events beyond the limit are dropped and counted',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => {
        span.addEvent('first')
        span.addEvent('second')
      })
      expect(ended(exporter).events.map((e) => e.name)).toEqual(['first'])
      expect(ended(exporter).droppedEventsCount).toBe(1)
    },
  },
  {
    env: { OTEL_SPAN_LINK_COUNT_LIMIT: '1' },
    effect: 'links beyond the limit are dropped and counted',
    check: () => {
      const exporter = startWithMemory()
      const a = startSpan('a')
      const b = startSpan('b')
      const span = startSpan('parity', { links: [{ context: a.spanContext() }, { context: b.spanContext() }] })
      span.end()
      expect(ended(exporter).links).toHaveLength(1)
      expect(ended(exporter).droppedLinksCount).toBe(1)
    },
  },
  {
    env: { OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '1' },
    effect: 'attributes per event are bounded',
    check: () => {
      const exporter = startWithMemory()
      trace('parity', (span) => span.addEvent('e', { a: 1, b: 2 }))
      const [event] = ended(exporter).events
      expect(event?.attributes).toEqual({ a: 1 })
      expect(event?.droppedAttributesCount).toBe(1)
    },
  },
  {
    env: { OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: '1' },
    effect: 'attributes per link are bounded',
    check: () => {
      const exporter = startWithMemory()
      const other = startSpan('other')
      startSpan('parity', { links: [{ context: other.spanContext(), attributes: { a: 1, b: 2 } }] }).end()
      const [link] = ended(exporter).links
      expect(link?.attributes).toEqual({ a: 1 })
      expect(link?.droppedAttributesCount).toBe(1)
    },
  },
]

/** Rows whose effect is an OTLP or Zipkin request on a loopback server. */
const exporterRows: Array<{
  env: (sink: Sink) => Record<string, string>
  effect: string
  check: (sink: Sink) => void
}> = [
  {
    env: (s) => ({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${s.url}/zipkin/spans` }),
    effect: 'OTEL_TRACES_EXPORTER=zipkin + OTEL_EXPORTER_ZIPKIN_ENDPOINT: Zipkin v2 JSON POSTed to that URL',
    check: (s) => {
      const [request] = s.requests
      expect(request?.path).toBe('/zipkin/spans')
      expect(JSON.parse(String(request?.body))[0].name).toBe('parity')
    },
  },
  {
    env: (s) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `${s.url}/base/` }),
    effect: 'OTEL_EXPORTER_OTLP_ENDPOINT: /v1/traces appended (no double slash), protobuf by default',
    check: (s) => {
      const [request] = s.requests
      expect(request?.path).toBe('/base/v1/traces')
      expect(request?.headers['content-type']).toBe('application/x-protobuf')
      const decoded = decodeTraceRequestProto(new Uint8Array(request?.body ?? []))
      expect(decoded.ok && decoded.request.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name).toBe('parity')
    },
  },
  {
    env: (s) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/unused',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${s.url}/custom/traces`,
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: used as is, over the generic endpoint',
    check: (s) => expect(s.requests[0]?.path).toBe('/custom/traces'),
  },
  {
    env: (s) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: s.url, OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x-team=core' }),
    effect: 'OTEL_EXPORTER_OTLP_HEADERS: percent-decoded request headers',
    check: (s) => {
      expect(s.requests[0]?.headers['api-key']).toBe('abc def')
      expect(s.requests[0]?.headers['x-team']).toBe('core')
    },
  },
  {
    env: (s) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-team=core,x-generic=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=traces',
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS: merged over the generic headers',
    check: (s) => {
      expect(s.requests[0]?.headers['x-team']).toBe('traces')
      expect(s.requests[0]?.headers['x-generic']).toBe('1')
    },
  },
  {
    env: (s) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: s.url, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }),
    effect: 'OTEL_EXPORTER_OTLP_COMPRESSION=gzip: gzip on the wire',
    check: (s) => {
      const [request] = s.requests
      expect(request?.headers['content-encoding']).toBe('gzip')
      expect(decodeTraceRequestProto(new Uint8Array(gunzipSync(request?.body ?? Buffer.alloc(0)))).ok).toBe(true)
    },
  },
  {
    env: (s) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip',
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: wins over the generic one',
    check: (s) => expect(s.requests[0]?.headers['content-encoding']).toBe('gzip'),
  },
  {
    env: (s) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: s.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    effect: 'OTEL_EXPORTER_OTLP_PROTOCOL=http/json: OTLP JSON',
    check: (s) => {
      const [request] = s.requests
      expect(request?.headers['content-type']).toBe('application/json')
      expect(decodeTraceRequestJson(String(request?.body)).ok).toBe(true)
    },
  },
  {
    env: (s) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: wins over the generic one',
    check: (s) => expect(s.requests[0]?.headers['content-type']).toBe('application/json'),
  },
  {
    env: (s) => ({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: s.url }),
    effect: 'OTEL_TRACES_EXPORTER=none: nothing is sent',
    check: (s) => expect(s.requests).toEqual([]),
  },
  {
    env: (s) => ({
      OTEL_TRACES_EXPORTER: 'otlp,zipkin',
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${s.url}/api/v2/spans`,
    }),
    effect: 'OTEL_TRACES_EXPORTER=otlp,zipkin: both exporters send',
    check: (s) => expect(s.requests.map((r) => r.path).sort()).toEqual(['/api/v2/spans', '/v1/traces']),
  },
]

/**
 * TLS files (PEM paths): an HTTPS receiver on 127.0.0.1 whose certificate is signed by a CA made
 * here with `openssl` (Node has no certificate generator; the rows are skipped without it). Each
 * row's check sees the subject CN of the client certificate presented with each request ('' for none).
 */
const hasOpenssl = spawnSync('openssl', ['version']).status === 0

interface Pki {
  dir: string
  ca: string
  otherCa: string
  server: { key: Buffer; cert: Buffer }
  clientKey: string
  clientCert: string
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'tl-parity-tls-'))
  const p = (name: string) => join(dir, name)
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  const newKey = (cn: string) => ['-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', p(`${cn}.key`)]
  for (const cn of ['parity-ca', 'other-ca']) ssl('req', '-x509', ...newKey(cn), '-days', '2', '-out', p(`${cn}.pem`))
  for (const [cn, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\n'],
    ['parity-client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    ssl('req', ...newKey(cn), '-out', p(`${cn}.csr`))
    writeFileSync(p(`${cn}.ext`), ext)
    const ca = ['-CA', p('parity-ca.pem'), '-CAkey', p('parity-ca.key'), '-CAcreateserial', '-days', '2']
    ssl('x509', '-req', '-in', p(`${cn}.csr`), ...ca, '-extfile', p(`${cn}.ext`), '-out', p(`${cn}.pem`))
  }
  return {
    dir,
    ca: p('parity-ca.pem'),
    otherCa: p('other-ca.pem'),
    server: { key: readFileSync(p('server.key')), cert: readFileSync(p('server.pem')) },
    clientKey: p('parity-client.key'),
    clientCert: p('parity-client.pem'),
  }
}

interface TlsSink {
  url: string
  clients: string[]
}

async function startTlsSink(pki: Pki, requireClientCert: boolean): Promise<TlsSink> {
  const clients: string[] = []
  const server = createHttpsServer(
    {
      ...pki.server,
      ...(requireClientCert && { ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true }),
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate()
      clients.push(typeof peer?.subject?.CN === 'string' ? peer.subject.CN : '')
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end())
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  sinks.push({
    url: '',
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, clients }
}

const tlsRows: Array<{
  mtls: boolean
  env: (sink: TlsSink, pki: Pki) => Record<string, string>
  effect: string
  check: (sink: TlsSink) => void
}> = [
  {
    mtls: false,
    env: (s, pki) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: s.url, OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca }),
    effect: 'OTEL_EXPORTER_OTLP_CERTIFICATE: an https receiver signed by that CA is trusted',
    check: (s) => expect(s.clients).toEqual(['']),
  },
  {
    mtls: false,
    env: (s, pki) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_CERTIFICATE: pki.otherCa,
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: pki.ca,
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: wins over the generic one',
    check: (s) => expect(s.clients).toEqual(['']),
  },
  {
    mtls: true,
    env: (s, pki) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.clientKey,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.clientCert,
    }),
    effect: 'OTEL_EXPORTER_OTLP_CLIENT_KEY + _CLIENT_CERTIFICATE: the client certificate is presented (mTLS)',
    check: (s) => expect(s.clients).toEqual(['parity-client']),
  },
  {
    mtls: true,
    env: (s, pki) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: pki.ca,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: join(pki.dir, 'missing.key'),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: join(pki.dir, 'missing.pem'),
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: pki.clientKey,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: pki.clientCert,
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY + _TRACES_CLIENT_CERTIFICATE: win over the generic ones',
    check: (s) => expect(s.clients).toEqual(['parity-client']),
  },
]

/** Timeouts: a receiver that never answers; the export fails once the configured time has passed. */
const timeoutRows: Array<{ env: (sink: Sink) => Record<string, string>; effect: string }> = [
  {
    env: (s) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: s.url, OTEL_EXPORTER_OTLP_TIMEOUT: '300' }),
    effect: 'OTEL_EXPORTER_OTLP_TIMEOUT: an unanswered OTLP export fails (counted) instead of waiting 10 s',
  },
  {
    env: (s) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: s.url,
      OTEL_EXPORTER_OTLP_TIMEOUT: '600000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '300',
    }),
    effect: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: wins over the generic one',
  },
  {
    env: (s) => ({
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${s.url}/api/v2/spans`,
      OTEL_EXPORTER_ZIPKIN_TIMEOUT: '300',
    }),
    effect: 'OTEL_EXPORTER_ZIPKIN_TIMEOUT: an unanswered Zipkin export fails (counted)',
  },
]

/** Variables of the spec that apply to traces and that Threadline does not honour (yet), and why. */
const notHonoured: Array<[string, string]> = [
  ['OTEL_PROPAGATORS=ottrace', 'the OT Trace (ot-tracer-*) propagator is not implemented (warns, ignored)'],
  [
    'OTEL_TRACES_SAMPLER=jaeger_remote / parentbased_jaeger_remote',
    'no remote sampler (warns, uses parentbased_always_on)',
  ],
  ['OTEL_TRACES_SAMPLER=xray', 'no X-Ray centralized sampling (warns, uses parentbased_always_on)'],
  ['OTEL_TRACES_EXPORTER=logging', 'deprecated alias of console; the spec says new SDKs SHOULD NOT support it'],
  ['OTEL_TRACES_EXPORTER=otlp/stdout', 'OTLP file exporter (in development) not implemented'],
  [
    'OTEL_EXPORTER_OTLP_PROTOCOL=grpc',
    'the core exporter speaks OTLP/HTTP only (protobuf, JSON); warns and uses http/protobuf',
  ],
  [
    'OTEL_LOG_LEVEL unset',
    'the spec default is info; Threadline defaults to warn (diag.ts), a deliberate quieter default',
  ],
  ['OTEL_EXPERIMENTAL_CONFIG_FILE', 'declarative configuration (in development) is not read'],
]

describe('OpenTelemetry SDK environment variables honoured by Threadline', () => {
  it.each(
    honoured.map(
      (row) =>
        [
          Object.entries(row.env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
          row,
        ] as const,
    ),
  )('%s', async (_, row) => {
    for (const [key, value] of Object.entries(row.env)) vi.stubEnv(key, value)
    await row.check()
  })

  it.each(exporterRows.map((row) => [row.effect, row] as const))('%s', async (_, row) => {
    const sink = await startSink()
    for (const [key, value] of Object.entries(row.env(sink))) vi.stubEnv(key, value)
    await exportOneSpan()
    row.check(sink)
  })

  it.each(timeoutRows.map((row) => [row.effect, row] as const))('%s', async (_, row) => {
    const sink = await startSink(false)
    for (const [key, value] of Object.entries(row.env(sink))) vi.stubEnv(key, value)
    const failures = stats().exportFailures
    init({ batch: false })
    trace('parity', () => {})
    await waitFor(() => stats().exportFailures > failures) // bounded by the test timeout, far below 10 s defaults
    expect(sink.requests.length).toBeGreaterThan(0)
  })
})

describe.skipIf(!hasOpenssl)('OTLP TLS variables (certificates generated with openssl; skipped without it)', () => {
  let pki: Pki
  beforeAll(() => {
    pki = makePki()
  })
  afterAll(() => rmSync(pki.dir, { recursive: true, force: true }))

  it.each(tlsRows.map((row) => [row.effect, row] as const))('%s', async (_, row) => {
    const sink = await startTlsSink(pki, row.mtls)
    for (const [key, value] of Object.entries(row.env(sink, pki))) vi.stubEnv(key, value)
    const failures = stats().exportFailures
    await exportOneSpan()
    expect(stats().exportFailures).toBe(failures)
    row.check(sink)
  })
})

describe('OpenTelemetry SDK environment variables not honoured', () => {
  for (const [variable, reason] of notHonoured) it.todo(`${variable}: ${reason}`)

  it('OTEL_EXPORTER_OTLP_TIMEOUT=0 means no exporter limit (the batch processor still bounds an export)', () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_TIMEOUT', '0')
    expect(new OtlpExporter().config.timeoutMs).toBeGreaterThan(24 * 3600 * 1000)
  })

  it('OTEL_BSP_MAX_QUEUE_SIZE=0 is rejected (positive values only): the default 2048 is used', () => {
    vi.stubEnv('OTEL_BSP_MAX_QUEUE_SIZE', '0')
    const processor = new BatchSpanProcessor({ export: async () => ({ ok: true }), shutdown: async () => {} })
    expect((processor as unknown as { maxQueueSize: number }).maxQueueSize).toBe(2048)
  })
})
