// node-postgres through a pool: untraced vs Threadline (@threadline/pg) vs OpenTelemetry
// (instrumentation-pg), in one run. Each condition lives in its own child process; the parent
// asks them in turn, round after round (so drift in the machine hits all of them alike), to run
// a batch of sequential `await pool.query()` inside one parent span, and reports per query: the
// median time, the time tracing adds (median over rounds of the difference with the untraced
// batch of the same round) and the ratio. Wall-clock time, and the CPU time of the client
// process: what tracing actually spends, which stays meaningful on a busy machine where
// wall-clock time mostly measures the scheduler.
// The Threadline process also runs each batch outside any span (pg instrumented, no span made):
// the difference is what a query span costs with no second process to compare against.
// Then the SQL sanitizer on a 2 KB statement (uncached, and through the cache), in µs/op.
//
// Uses the built packages (`npm run bench` builds them first) and a real PostgreSQL: the one in
// DATABASE_URL, else an embedded one started here.
import { fork } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='))
const ROUNDS = roundsArg ? Number(roundsArg.slice(9)) : 41
// many short rounds: a burst of other work on the machine spoils one short batch, not a long one
const BATCH = { select1: 400, rows100: 160 }
const WORKLOADS = {
  select1: { text: 'SELECT 1' },
  rows100: { text: 'SELECT id, label, price, created_at FROM bench_items WHERE id <= $1', values: [100] },
}
// `context only`: Threadline started and a parent span active, but pg not instrumented. It shows
// what context propagation alone costs (AsyncLocalStorage active across pg's sockets, promises and
// pg-pool's idle timers), which any tracer pays, apart from the query spans themselves.
const CONDITIONS = ['untraced', 'context only', 'threadline', 'opentelemetry']
/** The Threadline process running the same batch outside any span. */
const OUTSIDE = 'threadline, no parent span'

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4])
else await main()

async function main() {
  const { startPostgres } = await import('../packages/pg/test/postgres.ts')
  const db = await startPostgres({ database: 'bench' })
  try {
    await seed(db.url)
    const children = Object.fromEntries(CONDITIONS.map((c) => [c, startChild(c, db.url)]))
    await Promise.all(Object.values(children).map((c) => c.ready))
    const load = loadavg()
    console.log(`load average at start: ${load.map((l) => l.toFixed(2)).join(' ')}`)
    const runs = [...CONDITIONS, OUTSIDE]
    const samples = Object.fromEntries(runs.map((c) => [c, { select1: [], rows100: [] }]))
    const cpu = Object.fromEntries(runs.map((c) => [c, { select1: [], rows100: [] }]))
    const user = Object.fromEntries(runs.map((c) => [c, { select1: [], rows100: [] }]))
    const record = (c, w, { ns, cpuUs, userUs }) => {
      samples[c][w].push(ns / BATCH[w] / 1000)
      cpu[c][w].push(cpuUs / BATCH[w])
      user[c][w].push(userUs / BATCH[w])
    }
    // warm-up: JIT, pool connections, statement caches
    for (const c of CONDITIONS) for (const w of Object.keys(WORKLOADS)) await children[c].run(w, BATCH[w])
    for (const w of Object.keys(WORKLOADS)) await children.threadline.run(w, BATCH[w], true)
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of Object.keys(WORKLOADS)) {
        // rotate who goes first so no condition always runs on a cooler or warmer machine
        for (let k = 0; k < CONDITIONS.length; k++) {
          const c = CONDITIONS[(round + k) % CONDITIONS.length]
          if (c === 'threadline' && round % 2) record(OUTSIDE, w, await children[c].run(w, BATCH[w], true))
          record(c, w, await children[c].run(w, BATCH[w]))
          if (c === 'threadline' && !(round % 2)) record(OUTSIDE, w, await children[c].run(w, BATCH[w], true))
        }
      }
    }
    for (const c of Object.values(children)) c.stop()
    report(samples, 'wall-clock')
    report(cpu, 'client CPU')
    // The kernel's share of that CPU (socket writes that wake PostgreSQL) is bimodal on a VM: in one
    // check the same traced batch took 20 or 87 µs of system time per query in two processes,
    // depending on whether the other side was asleep. User time is where a tracer's own work goes.
    report(user, 'client user-mode CPU (the system time left out)')
    reportSpanCost(samples, cpu, user)
    console.log(
      `\nload average at start: ${load.map((l) => l.toFixed(2)).join(' ')}; at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (2+ on a 2-core machine inflates every figure)`,
    )
  } finally {
    await db.stop()
  }
  await sanitizerBench()
}

async function seed(url) {
  const { default: pg } = await import('pg')
  const client = new pg.Client(url)
  await client.connect()
  await client.query(`
    DROP TABLE IF EXISTS bench_items;
    CREATE TABLE bench_items (id int PRIMARY KEY, label text, price numeric, created_at timestamptz);
    INSERT INTO bench_items SELECT g, 'item ' || g, g * 1.5, now() FROM generate_series(1, 1000) g;
  `)
  await client.end()
}

function startChild(condition, url) {
  const proc = fork(self, ['--child', condition, url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let pending
  proc.on('message', (m) => {
    if (pending) {
      const p = pending
      pending = undefined
      p(m)
    }
  })
  const ready = new Promise((resolve) => {
    pending = resolve
  })
  return {
    ready,
    run(workload, n, outside = false) {
      return new Promise((resolve) => {
        pending = (m) => resolve(m)
        proc.send({ workload, n, outside })
      })
    },
    stop() {
      proc.send({ stop: true })
    },
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Median over rounds of `a[k] - b[k]`: what a condition adds, with each round's drift cancelled. */
function pairedAdded(a, b) {
  return median(a.map((x, k) => x - b[k]))
}

function report(samples, what) {
  console.log(
    `\npool.query, sequential, inside one parent span; ${what} µs per query, median of ${ROUNDS} alternating rounds`,
  )
  console.log('(added: median over rounds of the difference with the untraced batch of the same round)')
  console.log('workload   condition       µs/query   added µs   ratio')
  for (const w of Object.keys(WORKLOADS)) {
    const base = median(samples.untraced[w])
    for (const c of CONDITIONS) {
      const m = median(samples[c][w])
      const added = c === 'untraced' ? 0 : pairedAdded(samples[c][w], samples.untraced[w])
      const ratio = c === 'untraced' ? '1.000' : ((base + added) / base).toFixed(3)
      const shown = c === 'untraced' ? '' : added.toFixed(2)
      console.log(`${w.padEnd(10)} ${c.padEnd(15)} ${m.toFixed(2).padStart(8)}   ${shown.padStart(8)}   ${ratio}`)
    }
  }
}

function reportSpanCost(samples, cpu, user) {
  console.log(`\nThreadline's query span within one process: the same batch inside a parent span (a span per`)
  console.log(`query) and outside any (pg instrumented, no span made), alternating; median of ${ROUNDS} rounds`)
  console.log('workload   measure      no span   with span   added µs   ratio')
  for (const w of Object.keys(WORKLOADS)) {
    for (const [what, s] of [
      ['wall-clock', samples],
      ['client CPU', cpu],
      ['user CPU', user],
    ]) {
      const base = median(s[OUTSIDE][w])
      const added = pairedAdded(s.threadline[w], s[OUTSIDE][w])
      console.log(
        `${w.padEnd(10)} ${what.padEnd(10)} ${base.toFixed(2).padStart(9)}   ${median(s.threadline[w]).toFixed(2).padStart(9)}   ${added.toFixed(2).padStart(8)}   ${((base + added) / base).toFixed(3)}`,
      )
    }
  }
}

async function sanitizerBench() {
  const { analyzeSql, sqlInfo } = await import('../packages/core/dist/index.mjs')
  const parts = [
    'SELECT o.id, o.created_at, u.email, u.name, sum(li.quantity * li.unit_price) AS total, count(*) FILTER (WHERE li.discount > 0.15) AS discounted',
    'FROM orders o JOIN users u ON u.id = o.user_id LEFT JOIN line_items li ON li.order_id = o.id /* reporting query: owner=team-billing */',
    "WHERE o.status IN ('paid', 'shipped', 'delivered', 'refunded') AND o.created_at >= DATE '2026-01-01' AND u.email NOT LIKE '%@example.com'",
    "AND o.region = E'eu\\'west' AND o.total_cents BETWEEN 1000 AND 250000 AND o.flags @> ARRAY[1, 2, 3] AND o.note <> $$it's fine$$",
  ]
  let sql = ''
  for (let k = 0; sql.length < 2048; k++) sql += `${parts[k % parts.length]} -- line ${k}\n`
  sql = `${sql}GROUP BY o.id, u.email, u.name ORDER BY total DESC LIMIT 50 OFFSET 100`
  const wall = []
  const cpu = []
  const n = 2000
  for (let i = 0; i < n; i++) analyzeSql(sql) // warm-up
  for (let b = 0; b < 15; b++) {
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) analyzeSql(sql)
    wall.push(Number(process.hrtime.bigint() - t0) / n / 1000)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / n)
  }
  console.log(
    `\nSQL sanitizer + summary (analyzeSql, uncached) on a ${sql.length}-character statement: ${median(wall).toFixed(2)} µs/op wall-clock, ${median(cpu).toFixed(2)} µs/op CPU`,
  )
  // what a query span pays after the first time: the statement text as pg receives it each call
  const texts = Array.from({ length: 100 }, (_, k) => `${sql} -- ${k}`)
  for (const t of texts) sqlInfo(t)
  const cached = []
  for (let b = 0; b < 15; b++) {
    const c0 = process.cpuUsage()
    for (let i = 0; i < 100; i++) for (const t of texts) sqlInfo(t)
    const c = process.cpuUsage(c0)
    cached.push((c.user + c.system) / (100 * texts.length))
  }
  console.log(`through the cache (sqlInfo, 100 statements in use): ${median(cached).toFixed(3)} µs/op CPU`)
}

// ---- child: one condition ----
async function child(condition, url) {
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  let inParent = (fn) => fn()
  let pg
  if (condition === 'threadline' || condition === 'context only') {
    const core = await import('../packages/core/dist/index.mjs')
    const { instrumentPg } = await import('../packages/pg/dist/index.mjs')
    // spans go through the real batch processor to an exporter that drops them
    core.init({ serviceName: 'bench', exporter: { export: async () => ({ ok: true }), shutdown: async () => {} } })
    pg = require('pg')
    if (condition === 'threadline') instrumentPg(pg)
    inParent = (fn) => core.trace('batch', fn)
  } else if (condition === 'opentelemetry') {
    const api = require('@opentelemetry/api')
    const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
    const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base')
    const { registerInstrumentations } = require('@opentelemetry/instrumentation')
    const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg')
    const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
    provider.register()
    registerInstrumentations({ instrumentations: [new PgInstrumentation()] })
    pg = require('pg') // after the hook, so require-in-the-middle patches it
    const tracer = api.trace.getTracer('bench')
    inParent = (fn) =>
      tracer.startActiveSpan('batch', async (span) => {
        try {
          return await fn()
        } finally {
          span.end()
        }
      })
  } else {
    pg = require('pg')
  }
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  process.on('message', async (m) => {
    if (m.stop) {
      await pool.end()
      process.exit(0)
    }
    const w = WORKLOADS[m.workload]
    const batch = async () => {
      const c0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < m.n; i++) await pool.query(w.text, w.values)
      const ns = Number(process.hrtime.bigint() - t0)
      const c = process.cpuUsage(c0)
      return { ns, cpuUs: c.user + c.system, userUs: c.user }
    }
    process.send(await (m.outside ? batch() : inParent(batch)))
  })
  process.send({ ready: true })
}
