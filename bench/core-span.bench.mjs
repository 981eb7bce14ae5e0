// Per-span cost (the loop yields every 500 spans so both batch processors export as they would in
// a server, instead of dropping a full queue): start a child of an active span, set 5 attributes, end it, through a batch
// processor into an exporter that discards. Threadline vs OpenTelemetry JS (sdk-trace-base 2.x,
// same settings), plus an unsampled span, in one run, alternating rounds, medians reported.
import { context as otelContext, trace as otelTrace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor as OtelBatch,
  ParentBasedSampler,
} from '@opentelemetry/sdk-trace-base'
import * as tl from '../packages/core/dist/index.mjs'

const SPANS = 200_000
const ROUNDS = 7

const discard = { export: async () => ({ ok: true }), shutdown: async () => {} }
const otelDiscard = { export: (_spans, cb) => cb({ code: 0 }), shutdown: async () => {} }

// --- Threadline
tl.init({ serviceName: 'bench', exporter: discard, propagators: ['none'], instrument: { fetch: false, http: false } })
const tlTracer = tl.getTracer('bench')
const tick = () => new Promise((resolve) => setImmediate(resolve))
const CHUNK = 500
function threadlineRun(n) {
  return tlTracer.startActiveSpan('parent', async (parent) => {
    for (let i = 0; i < n; i++) {
      if (i % CHUNK === 0) await tick()
      const span = tlTracer.startSpan('child')
      span.setAttribute('http.request.method', 'GET')
      span.setAttribute('url.path', '/users/42')
      span.setAttribute('http.response.status_code', 200)
      span.setAttribute('server.port', 8080)
      span.setAttribute('user.vip', true)
      span.end()
    }
    parent.end()
  })
}

// --- OpenTelemetry, same settings: batch processor (2048 queue, 512 batch), parent-based always-on
otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const otelProvider = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  spanProcessors: [
    new OtelBatch(otelDiscard, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000 }),
  ],
})
const otelTracer = otelProvider.getTracer('bench')
const otelOffTracer = new BasicTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('bench')
function otelRun(n, tracer = otelTracer) {
  return tracer.startActiveSpan('parent', async (parent) => {
    for (let i = 0; i < n; i++) {
      if (i % CHUNK === 0) await tick()
      const span = tracer.startSpan('child')
      span.setAttribute('http.request.method', 'GET')
      span.setAttribute('url.path', '/users/42')
      span.setAttribute('http.response.status_code', 200)
      span.setAttribute('server.port', 8080)
      span.setAttribute('user.vip', true)
      span.end()
    }
    parent.end()
  })
}

// --- Unsampled (Threadline): a root span the sampler drops, then a child of it
const tlOff = tl.parentBased({ root: tl.traceIdRatioBased(0) })
function threadlineUnsampled(n) {
  return tlTracer.startActiveSpan('parent', { root: true }, tl.ROOT_CONTEXT, async (parent) => {
    for (let i = 0; i < n; i++) {
      if (i % CHUNK === 0) await tick()
      const span = tlTracer.startSpan('child')
      span.setAttribute('http.request.method', 'GET')
      span.end()
    }
    parent.end()
  })
}

async function measure(fn, n) {
  globalThis.gc?.()
  const heap0 = process.memoryUsage().heapUsed
  // CPU time of this process, not wall-clock: on a shared machine other processes' load would
  // otherwise count against whichever condition happened to run while they were busy.
  const cpu0 = process.cpuUsage()
  await fn(n)
  const cpu = process.cpuUsage(cpu0)
  const ns = ((cpu.user + cpu.system) * 1000) / n
  const bytes = Math.max(0, (process.memoryUsage().heapUsed - heap0) / n)
  return { ns, bytes }
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const results = { threadline: [], otel: [], tlUnsampled: [], otelUnsampled: [], noop: [] }
// The floor: @opentelemetry/api's no-op tracer (no SDK registered) through the same loop.
const noopTracer = otelTrace.getTracer('noop')

// warm-up
await threadlineRun(20_000)
await otelRun(20_000)
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ['threadline', 'otel'] : ['otel', 'threadline']
  for (const name of order) results[name].push(await measure(name === 'threadline' ? threadlineRun : otelRun, SPANS))
  // unsampled: switch Threadline's sampler to drop everything for this measurement
  const provider = globalThis[Symbol.for('threadline.core.provider.v1')]
  const saved = provider.sampler
  provider.sampler = tlOff
  results.tlUnsampled.push(await measure(threadlineUnsampled, SPANS))
  provider.sampler = saved
  results.otelUnsampled.push(await measure((n) => otelRun(n, otelOffTracer), SPANS))
  results.noop.push(await measure((n) => otelRun(n, noopTracer), SPANS))
}

const row = (label, rs) => ({ label, ns: median(rs.map((r) => r.ns)), bytes: median(rs.map((r) => r.bytes)) })
const rows = [
  row('Threadline (sampled)', results.threadline),
  row('OpenTelemetry 2.x (sampled)', results.otel),
  row('Threadline (unsampled)', results.tlUnsampled),
  row('OpenTelemetry 2.x (unsampled)', results.otelUnsampled),
  row('no-op API (floor: loop + calls)', results.noop),
]
console.log(
  `CPU time per span: start child of active span + 5 attributes + end + batch enqueue; ${SPANS} spans x ${ROUNDS} rounds, medians`,
)
console.log('condition                        ns/span   heap bytes/span')
for (const r of rows)
  console.log(`${r.label.padEnd(32)} ${r.ns.toFixed(0).padStart(7)}   ${r.bytes.toFixed(0).padStart(8)}`)
console.log(
  `ratio OpenTelemetry / Threadline (sampled):   ${(rows[1].ns / rows[0].ns).toFixed(1)}x time, ${(rows[1].bytes / Math.max(1, rows[0].bytes)).toFixed(1)}x heap`,
)
console.log(`ratio OpenTelemetry / Threadline (unsampled): ${(rows[3].ns / rows[2].ns).toFixed(1)}x time`)
await tl.shutdown(100)
await otelProvider.shutdown()
