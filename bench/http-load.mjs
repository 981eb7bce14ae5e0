// The HTTP server benchmark shared by express.bench.mjs and koa.bench.mjs: the same app untraced,
// traced by Threadline and traced by OpenTelemetry, each condition in its own server process,
// load from autocannon in another process, conditions alternated round by round, and every
// traced condition exporting OTLP/HTTP protobuf to the same loopback sink (in this process).
//
//   node bench/express.bench.mjs            full run (about a minute per framework)
//   BENCH_SECONDS=2 BENCH_ROUNDS=1 node ...  quick check
//   BENCH_WARMUP_SECONDS=6 node ...           longer warm-up per server (default 1 s; 6 s gave the same
//                                             Threadline ratio here, 74.9% both, while OpenTelemetry's rose 32 -> 40%)
import { fork, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const AUTOCANNON = require.resolve('autocannon/autocannon.js')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const FIXED_RATE = Number(process.env.BENCH_FIXED_RATE ?? 2000)
export const CONDITIONS = ['untraced', 'threadline', 'opentelemetry']

/**
 * Runs the benchmark. `serverScript` is a module that, when forked with the condition name and
 * the sink's URL as arguments, starts the app on a free port and sends `{ port }` to its parent.
 */
export async function runHttpBenchmark({ title, serverScript, path }) {
  const sink = await startSink()
  console.log(
    `${title}: GET ${path}, ${CONNECTIONS} connections, ${SECONDS}s per run, ${ROUNDS} round(s) alternating ${CONDITIONS.join(' / ')}`,
  )
  console.log(
    process.env.BENCH_EXPORT === 'none'
      ? 'Threadline samples 100% and discards its batches (BENCH_EXPORT=none); OpenTelemetry exports OTLP/HTTP protobuf to a loopback sink'
      : 'Threadline and OpenTelemetry both sample 100% and export OTLP/HTTP protobuf (batched) to a loopback sink',
  )
  const throughput = Object.fromEntries(CONDITIONS.map((c) => [c, []]))
  const otlpBytes = Object.fromEntries(CONDITIONS.map((c) => [c, 0]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const condition of CONDITIONS) {
      const before = sink.bytes
      const result = await measure(serverScript, condition, sink.url, path, {})
      otlpBytes[condition] += sink.bytes - before
      throughput[condition].push(result)
    }
  }
  // Latency at a fixed rate only means something below saturation: on a slow or shared machine,
  // use half the untraced throughput instead of the nominal rate, and say so.
  const untracedRps = mean(throughput.untraced.map((r) => r.rps))
  const rate = Math.min(FIXED_RATE, Math.floor(untracedRps / 2))
  if (rate < FIXED_RATE) console.log(`(fixed-rate phase at ${rate} req/s: half the untraced throughput here)`)
  const latency = {}
  for (const condition of CONDITIONS) {
    latency[condition] = await measure(serverScript, condition, sink.url, path, { rate })
  }
  sink.server.close()

  const base = mean(throughput.untraced.map((r) => r.rps))
  const baseP99 = latency.untraced.p99 || 1
  console.log('')
  const baseCpu = mean(throughput.untraced.map((r) => r.cpuPerRequest))
  console.log(
    'condition       req/s     ratio   CPU µs/req   CPU ratio   main thread µs/req   p99 (max load)   p99 @%d req/s   p99 ratio   OTLP bytes',
    rate,
  )
  for (const condition of CONDITIONS) {
    const rps = mean(throughput[condition].map((r) => r.rps))
    const p99 = mean(throughput[condition].map((r) => r.p99))
    const cpu = mean(throughput[condition].map((r) => r.cpuPerRequest))
    console.log(
      [
        condition.padEnd(14),
        rps.toFixed(0).padStart(7),
        `${((rps / base) * 100).toFixed(1)}%`.padStart(8),
        cpu.toFixed(0).padStart(12),
        `${(cpu / baseCpu).toFixed(2)}x`.padStart(11),
        mean(throughput[condition].map((r) => r.mainThreadCpuPerRequest))
          .toFixed(0)
          .padStart(20),
        `${p99.toFixed(1)} ms`.padStart(16),
        `${latency[condition].p99.toFixed(1)} ms`.padStart(15),
        `${(latency[condition].p99 / baseP99).toFixed(2)}x`.padStart(11),
        String(otlpBytes[condition]).padStart(12),
      ].join(' '),
    )
  }
  return { throughput, latency }
}

async function measure(serverScript, condition, sinkUrl, path, { rate }) {
  const child = fork(serverScript, [condition, sinkUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port))
      child.once('exit', (code) => reject(new Error(`${condition} server exited with ${code}`)))
    })
    const url = `http://127.0.0.1:${port}${path}`
    await autocannon(url, WARMUP_SECONDS, rate) // warm-up: JIT, connection pools, first export
    const before = await cpuOf(child)
    const result = await autocannon(url, SECONDS, rate)
    const after = await cpuOf(child)
    // CPU per request (server process, export included): robust when the machine is shared.
    // The main thread's share apart: the rest is V8's GC and compiler threads and libuv's pool.
    const requests = Math.max(1, result.total)
    return {
      ...result,
      cpuPerRequest: (after.cpu - before.cpu) / requests,
      mainThreadCpuPerRequest: (after.thread - before.thread) / requests,
    }
  } finally {
    child.kill()
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve()))
  }
}

function autocannon(url, seconds, rate) {
  const args = [AUTOCANNON, '-j', '-c', String(CONNECTIONS), '-d', String(seconds)]
  if (rate) args.push('--overallRate', String(rate))
  args.push(url)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.on('error', reject)
    child.on('exit', () => {
      try {
        const r = JSON.parse(out)
        if (r.non2xx || r.errors) reject(new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`))
        else resolve({ rps: r.requests.average, p99: r.latency.p99, total: r.requests.total })
      } catch (error) {
        reject(error)
      }
    })
  })
}

/** The server process's CPU time so far (user + system), µs: all threads, and the main thread's. */
function cpuOf(child) {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m))
    child.send('cpu')
  })
}

/** A loopback OTLP endpoint: reads each export, answers 200 with an empty protobuf response. */
async function startSink() {
  const sink = { bytes: 0, url: '', server: undefined }
  sink.server = createServer((req, res) => {
    req.on('data', (chunk) => {
      sink.bytes += chunk.length
    })
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end())
  })
  await new Promise((resolve) => sink.server.listen(0, '127.0.0.1', resolve))
  sink.url = `http://127.0.0.1:${sink.server.address().port}`
  return sink
}

function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length
}

/** In a forked server: sets up the tracing condition before the framework is loaded. */
export async function setUpCondition(condition, sinkUrl, instrumentationFor) {
  if (condition === 'threadline') {
    const { init, OtlpExporter } = await import('@threadline/core')
    // BENCH_EXPORT=none: spans are batched, then discarded (to separate span cost from export cost)
    const exporter =
      process.env.BENCH_EXPORT === 'none'
        ? { export: async () => ({ ok: true }), shutdown: async () => {} }
        : new OtlpExporter({ url: `${sinkUrl}/v1/traces` })
    init({ serviceName: 'bench', exporter })
  } else if (condition === 'opentelemetry') {
    const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
    const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base')
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto')
    const { resourceFromAttributes } = require('@opentelemetry/resources')
    const { registerInstrumentations } = require('@opentelemetry/instrumentation')
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http')
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'bench' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${sinkUrl}/v1/traces` }))],
    })
    provider.register()
    registerInstrumentations({ instrumentations: [new HttpInstrumentation(), instrumentationFor()] })
  }
}

export function listening(server) {
  // exit through process.exit so --cpu-prof and friends can write their files
  process.on('SIGTERM', () => process.exit(0))
  process.on('message', (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage()
      const thread = process.threadCpuUsage?.() ?? { user, system } // absent on older Node: whole process
      process.send({ cpu: user + system, thread: thread.user + thread.system })
    }
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}
