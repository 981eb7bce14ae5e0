// Per-span cost: start a child of an active span, set 5 attributes, end it, through a batch
// processor into an exporter that discards. Threadline vs OpenTelemetry JS (sdk-trace-base 2.x,
// same settings), plus unsampled spans and the no-op API as a floor.
//
// Each condition runs in its own fresh process, and the conditions alternate round by round: in
// one process, the tracers shared a heap (one's garbage was the other's GC time), a second
// AsyncLocalStorage, and loop call sites that went megamorphic. CPU time of the measured loop
// only (not wall-clock: the machine may be shared), after a warm-up, medians over the rounds.
//
//   node bench/core-span.bench.mjs          full run (7 rounds)
//   BENCH_ROUNDS=3 node ...                  quicker
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SPANS = 200_000
const CHUNK = 500 // yield every CHUNK spans so both batch processors export as they would in a server
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const CONDITIONS = {
  threadline: 'Threadline (sampled)',
  opentelemetry: 'OpenTelemetry 2.x (sampled)',
  'threadline-unsampled': 'Threadline (unsampled)',
  'opentelemetry-unsampled': 'OpenTelemetry 2.x (unsampled)',
  noop: 'no-op API (floor: loop + calls)',
}

const [condition] = process.argv.slice(2)
if (condition) {
  process.stdout.write(JSON.stringify(await runCondition(condition)))
  process.exit(0)
}

const results = Object.fromEntries(Object.keys(CONDITIONS).map((c) => [c, []]))
for (let r = 0; r < ROUNDS; r++) {
  const order = Object.keys(CONDITIONS)
  if (r % 2 === 1) order.reverse()
  for (const c of order) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), c], { encoding: 'utf8' })
    results[c].push(JSON.parse(out))
  }
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = Object.fromEntries(
  Object.entries(results).map(([c, rs]) => [
    c,
    { ns: median(rs.map((r) => r.ns)), bytes: median(rs.map((r) => r.bytes)) },
  ]),
)
console.log(
  `CPU time per span: start child of active span + 5 attributes + end + batch enqueue; ${SPANS} spans, ${ROUNDS} rounds, one process per condition and round, medians`,
)
console.log('condition                        ns/span   heap growth bytes/span   rounds (ns/span, sorted)')
for (const [c, label] of Object.entries(CONDITIONS)) {
  const all = results[c].map((r) => r.ns.toFixed(0)).sort((a, b) => a - b)
  console.log(
    `${label.padEnd(32)} ${rows[c].ns.toFixed(0).padStart(7)}   ${rows[c].bytes.toFixed(0).padStart(22)}   ${all.join(' ')}`,
  )
}
const ratio = (a, b) => (rows[a].ns / rows[b].ns).toFixed(1)
console.log(
  `ratio OpenTelemetry / Threadline (sampled):   ${ratio('opentelemetry', 'threadline')}x time, ${(rows.opentelemetry.bytes / Math.max(1, rows.threadline.bytes)).toFixed(1)}x heap`,
)
console.log(
  `ratio OpenTelemetry / Threadline (unsampled): ${ratio('opentelemetry-unsampled', 'threadline-unsampled')}x time`,
)
console.log(
  `above the no-op floor: Threadline ${(rows.threadline.ns - rows.noop.ns).toFixed(0)} ns, OpenTelemetry ${(rows.opentelemetry.ns - rows.noop.ns).toFixed(0)} ns (${((rows.opentelemetry.ns - rows.noop.ns) / Math.max(1, rows.threadline.ns - rows.noop.ns)).toFixed(1)}x)`,
)

/** In a child process: warm up, then measure one condition. */
async function runCondition(name) {
  const tick = () => new Promise((resolve) => setImmediate(resolve))
  let tracer
  if (name === 'threadline' || name === 'threadline-unsampled') {
    const tl = await import('../packages/core/dist/index.mjs')
    const discard = { export: async () => ({ ok: true }), shutdown: async () => {} }
    const sampler = name === 'threadline' ? undefined : tl.parentBased({ root: tl.traceIdRatioBased(0) })
    tl.init({
      serviceName: 'bench',
      exporter: discard,
      sampler,
      propagators: ['none'],
      instrument: { fetch: false, http: false },
    })
    tracer = tl.getTracer('bench')
  } else {
    const api = await import('@opentelemetry/api')
    tracer = api.trace.getTracer('noop') // no SDK registered: the API's no-op tracer
    if (name !== 'noop') {
      const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
      const sdk = await import('@opentelemetry/sdk-trace-base')
      api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
      const discard = { export: (_spans, cb) => cb({ code: 0 }), shutdown: async () => {} }
      const provider = new sdk.BasicTracerProvider({
        sampler: new sdk.ParentBasedSampler({
          root: name === 'opentelemetry' ? new sdk.AlwaysOnSampler() : new sdk.AlwaysOffSampler(),
        }),
        spanProcessors: [
          new sdk.BatchSpanProcessor(discard, {
            maxQueueSize: 2048,
            maxExportBatchSize: 512,
            scheduledDelayMillis: 5000,
          }),
        ],
      })
      tracer = provider.getTracer('bench')
    }
  }
  // the same loop for every condition: each runs in its own process, so its call sites see one tracer.
  // The spans are made in a plain function called once per chunk (optimised as a whole, as a
  // request handler is), not in the async loop's body, whose optimised code only arrives by
  // on-stack replacement at a moment that varied between processes (unsampled: 40 or 80 ns).
  const chunk = (n) => {
    for (let i = 0; i < n; i++) {
      const span = tracer.startSpan('child')
      span.setAttribute('http.request.method', 'GET')
      span.setAttribute('url.path', '/users/42')
      span.setAttribute('http.response.status_code', 200)
      span.setAttribute('server.port', 8080)
      span.setAttribute('user.vip', true)
      span.end()
    }
  }
  const run = (n) =>
    tracer.startActiveSpan('parent', async (parent) => {
      for (let done = 0; done < n; done += CHUNK) {
        await tick()
        chunk(Math.min(CHUNK, n - done))
      }
      parent.end()
    })
  // Warm-up to a steady state (JIT tiers, pools, the young generation grown to the allocation
  // rate), as in a server that has been up a while. No forced GC before the timed run: a full GC
  // shrinks the young generation again, and the timed run then paid for regrowing it (one
  // comparison here: Threadline 1,122 -> 412 ns, OpenTelemetry 3,534 -> 2,856 ns).
  for (let i = 0; i < 4; i++) await run(SPANS / 2)
  // The cheap conditions time 10x more spans: 200k of them take ~10 ms of CPU, where a background
  // compiler job finishing in the window (process.cpuUsage counts every thread) moved the result 2x.
  const timed = name === 'threadline' || name === 'opentelemetry' ? SPANS : SPANS * 10
  const cpu0 = process.cpuUsage()
  await run(timed)
  const cpu = process.cpuUsage(cpu0)
  // Heap growth over a second run started from a collected heap (garbage not yet collected plus
  // anything retained), apart from the timed run: indicative only.
  globalThis.gc?.()
  const heap0 = process.memoryUsage().heapUsed
  await run(SPANS)
  return {
    ns: ((cpu.user + cpu.system) * 1000) / timed,
    bytes: Math.max(0, (process.memoryUsage().heapUsed - heap0) / SPANS),
  }
}
