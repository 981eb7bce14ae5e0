// Export cost. (1) Encode 512 typical spans (HTTP server, DB and HTTP client children, some events)
// to OTLP protobuf and JSON bytes: Threadline's encoders vs OpenTelemetry JS's serializers
// (@opentelemetry/otlp-transformer ProtobufTraceSerializer / JsonTraceSerializer, spans made by
// sdk-trace-base 2.x). (2) Pipeline throughput: spans/s one process pushes through its batch
// processor + OTLP/protobuf exporter into a loopback sink running in another process.
// Rounds alternate between conditions; medians reported (encoding: CPU time per batch, GC included).
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  BatchSpanProcessor as OtelBatch,
  SimpleSpanProcessor as OtelSimple,
} from '@opentelemetry/sdk-trace-base'
import * as tl from '../packages/core/dist/index.mjs'
import { encodeTraceRequestJsonBytes, encodeTraceRequestProto } from '../packages/core/dist/otlp.mjs'

const BATCH = 512
const ROUNDS = 15
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// --- 512 typical spans, made the same way by each SDK
function makeSpans(tracer, kinds) {
  // 128 requests x (server + db client + http client + internal) = 512 spans
  for (let r = 0; r < BATCH / 4; r++) {
    tracer.startActiveSpan('GET /users/:id', { kind: kinds.SERVER }, (server) => {
      server.setAttributes({
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'url.path': `/users/${r}`,
        'url.scheme': 'http',
        'server.address': 'api.internal',
        'server.port': 8080,
        'client.address': '10.0.0.12',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
        'http.response.status_code': 200,
      })
      const db = tracer.startSpan('SELECT users', { kind: kinds.CLIENT })
      db.setAttributes({
        'db.system.name': 'postgresql',
        'db.namespace': 'app',
        'db.query.text': 'SELECT id, name, email FROM users WHERE id = $1',
        'db.operation.name': 'SELECT',
        'server.address': 'db',
        'server.port': 5432,
      })
      db.end()
      const call = tracer.startSpan('GET', { kind: kinds.CLIENT })
      call.setAttributes({
        'http.request.method': 'GET',
        'url.full': 'http://catalog:3000/items?id=7',
        'http.response.status_code': 200,
      })
      if (r % 8 === 0) call.addEvent('retry', { attempt: 1 })
      call.end()
      const internal = tracer.startSpan('render')
      internal.setAttribute('template', 'user')
      internal.end()
      server.end()
    })
  }
}

const memory = new tl.MemoryExporter()
tl.init({
  serviceName: 'bench-api',
  serviceVersion: '1.0.0',
  exporter: memory,
  batch: false,
  propagators: ['none'],
  instrument: { fetch: false, http: false },
})
makeSpans(tl.getTracer('@threadline/express', '0.1.0'), tl.SpanKind)
const tlSpans = memory.getFinishedSpans()
await tl.shutdown(100)

const otelMemory = new InMemorySpanExporter()
const otelProvider = new BasicTracerProvider({
  resource: resourceFromAttributes({ ...tlSpans[0].resource.attributes }),
  spanProcessors: [new OtelSimple(otelMemory)],
})
const { context: otelContext } = await import('@opentelemetry/api')
const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
makeSpans(otelProvider.getTracer('@opentelemetry/instrumentation-express', '0.1.0'), { SERVER: 1, CLIENT: 2 })
const otelSpans = otelMemory.getFinishedSpans()
if (tlSpans.length !== BATCH || otelSpans.length !== BATCH) throw new Error(`expected ${BATCH} spans each`)

const encoders = {
  'Threadline protobuf': () => encodeTraceRequestProto(tlSpans),
  'OpenTelemetry protobuf': () => ProtobufTraceSerializer.serializeRequest(otelSpans),
  // the exporter hands the string to the socket, which UTF-8 encodes it: count that too
  'Threadline JSON': () => encodeTraceRequestJsonBytes(tlSpans),
  'OpenTelemetry JSON': () => JsonTraceSerializer.serializeRequest(otelSpans),
}
const sizes = Object.fromEntries(Object.entries(encoders).map(([k, fn]) => [k, fn().length]))

// CPU time (user + system, all threads: GC included), not wall time: the machine is shared.
function timeBatch(fn, iterations) {
  const c0 = process.cpuUsage()
  for (let i = 0; i < iterations; i++) fn()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / iterations
}
for (const fn of Object.values(encoders)) timeBatch(fn, 200) // warm-up
const encodeResults = Object.fromEntries(Object.keys(encoders).map((k) => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  const names = Object.keys(encoders)
  if (r % 2) names.reverse()
  for (const name of names) {
    globalThis.gc?.()
    encodeResults[name].push(timeBatch(encoders[name], 200))
  }
}
const us = (name) => median(encodeResults[name])
console.log(
  `encode ${BATCH} spans to an OTLP ExportTraceServiceRequest; ${ROUNDS} rounds x 200 batches, CPU medians (load average ${loadavg()[0].toFixed(1)})`,
)
console.log('encoder                  CPU µs/batch  µs/span     bytes  bytes/span')
for (const name of Object.keys(encoders))
  console.log(
    `${name.padEnd(24)} ${us(name).toFixed(0).padStart(12)} ${(us(name) / BATCH).toFixed(2).padStart(8)} ${String(sizes[name]).padStart(9)} ${(sizes[name] / BATCH).toFixed(0).padStart(11)}`,
  )
console.log(
  `ratio OpenTelemetry / Threadline: protobuf ${(us('OpenTelemetry protobuf') / us('Threadline protobuf')).toFixed(1)}x, JSON ${(us('OpenTelemetry JSON') / us('Threadline JSON')).toFixed(1)}x`,
)
// `--encode`: the encoder comparison only (for iterating on the encoders)
if (process.argv.includes('--encode')) process.exit(0)

// --- (2) pipeline throughput into a loopback sink in another process
const sinkSource = `
  const http = require('node:http')
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end()) })
  server.keepAliveTimeout = 60000
  server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'))
`
const sink = spawn(process.execPath, ['-e', sinkSource], { stdio: ['ignore', 'pipe', 'inherit'] })
const sinkPort = await new Promise((resolve) => sink.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
const endpoint = `http://127.0.0.1:${sinkPort}`
const tick = () => new Promise((resolve) => setImmediate(resolve))
const PIPELINE_SPANS = 100_000

function spanLoop(tracer, queued, n) {
  return (async () => {
    for (let i = 0; i < n; i += 64) {
      // back-pressure: wait while the queue is 3/4 full, so the run measures export, not drops
      while (queued() > 1536) await tick()
      for (let j = 0; j < 64; j++) {
        const span = tracer.startSpan('GET /users/:id')
        span.setAttribute('http.request.method', 'GET')
        span.setAttribute('http.route', '/users/:id')
        span.setAttribute('http.response.status_code', 200)
        span.end()
      }
    }
  })()
}

// Threadline: batch processor + OTLP/protobuf exporter
const tlBatch = new tl.BatchSpanProcessor(new tl.OtlpExporter({ endpoint }), { scheduledDelayMs: 50 })
tl.init({
  serviceName: 'bench-pipeline',
  spanProcessors: [tlBatch],
  propagators: ['none'],
  instrument: { fetch: false, http: false },
})
const tlPipeTracer = tl.getTracer('bench')
async function tlPipeline() {
  const exported0 = tl.stats().spansExported
  const t0 = process.hrtime.bigint()
  await spanLoop(tlPipeTracer, () => tlBatch.queued, PIPELINE_SPANS)
  await tlBatch.forceFlush()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return (tl.stats().spansExported - exported0) / s
}

// OpenTelemetry: BatchSpanProcessor + OTLPTraceExporter (exporter-trace-otlp-proto)
const otelBatch = new OtelBatch(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), { scheduledDelayMillis: 50 })
const otelPipeProvider = new BasicTracerProvider({ spanProcessors: [otelBatch] })
const otelPipeTracer = otelPipeProvider.getTracer('bench')
let otelExported = 0
{
  const exporter = otelBatch._exporter
  const original = exporter.export.bind(exporter)
  exporter.export = (spans, cb) =>
    original(spans, (result) => {
      if (result.code === 0) otelExported += spans.length
      cb(result)
    })
}
async function otelPipeline() {
  const exported0 = otelExported
  const t0 = process.hrtime.bigint()
  await spanLoop(
    otelPipeTracer,
    () => otelBatch._finishedSpans?.length ?? otelBatch._finishedSpansQueue?.length ?? 0,
    PIPELINE_SPANS,
  )
  await otelBatch.forceFlush()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return (otelExported - exported0) / s
}

await tlPipeline()
await otelPipeline()
const pipe = { threadline: [], otel: [] }
for (let r = 0; r < 5; r++) {
  const order = r % 2 ? ['otel', 'threadline'] : ['threadline', 'otel']
  for (const name of order) {
    globalThis.gc?.()
    pipe[name].push(name === 'threadline' ? await tlPipeline() : await otelPipeline())
  }
}
console.log(
  `\npipeline: ${PIPELINE_SPANS} spans (3 attributes) -> batch processor -> OTLP/protobuf over loopback HTTP to a sink process; 5 rounds, medians`,
)
console.log(`Threadline        ${median(pipe.threadline).toFixed(0).padStart(9)} spans/s exported`)
console.log(`OpenTelemetry 2.x ${median(pipe.otel).toFixed(0).padStart(9)} spans/s exported`)
console.log(`ratio Threadline / OpenTelemetry: ${(median(pipe.threadline) / median(pipe.otel)).toFixed(1)}x`)
await tl.shutdown(1000)
await otelPipeProvider.shutdown()
sink.kill()
