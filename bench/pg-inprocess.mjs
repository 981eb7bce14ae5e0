// Where a traced `SELECT 1` spends its time, measured in one client process: two copies of `pg`
// (one instrumented by @threadline/pg, one not) share one heap and JIT state, and each round runs
// a batch of sequential queries per variant, in a new random order each round:
//   pool, untraced          an uninstrumented pool.query, no span active
//   pool, span by hand      the same inside a parent span, with a span made around each query
//                           by core's API (8 attributes): what a query span itself costs
//   client, untraced        an uninstrumented Client#query on a checked-out client
//   client, instrumented    @threadline/pg's Client#query inside a parent span
//   pool, instrumented      @threadline/pg's pool.query inside a parent span
// It prints the median user-mode CPU per query of each variant (the system part, socket writes that
// wake PostgreSQL, is bimodal on a VM and hides the tracer's own work) and the difference from its
// untraced counterpart. A diagnostic beside pg.bench.mjs, not one of `npm run bench`'s comparisons:
// `npx turbo run build && npx node bench/pg-inprocess.mjs` (a real PostgreSQL: DATABASE_URL, else
// an embedded one started here).
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const BATCH = 300
const ROUNDS = 45
const WARMUP_ROUNDS = 5

if (process.argv[2] === '--child') await child(process.argv[3])
else await main()

async function main() {
  let url = process.env.DATABASE_URL
  let db
  if (!url) {
    const { startPostgres } = await import('../packages/pg/test/postgres.ts')
    db = await startPostgres({ database: 'bench' })
    url = db.url
  }
  try {
    await new Promise((resolve, reject) =>
      fork(fileURLToPath(import.meta.url), ['--child', url]).on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`child exited ${code}`)),
      ),
    )
  } finally {
    await db?.stop()
  }
}

async function child(url) {
  const require = createRequire(import.meta.url)
  const core = await import('../packages/core/dist/index.mjs')
  const { instrumentPg } = await import('../packages/pg/dist/index.mjs')
  core.init({ serviceName: 'bench', exporter: { export: async () => ({ ok: true }), shutdown: async () => {} } })
  const plainPg = require('pg')
  // a second, separate copy of pg's modules for the instrumented variants
  for (const key of Object.keys(require.cache)) if (/[\\/]node_modules[\\/]pg[\\/]/.test(key)) delete require.cache[key]
  const tracedPg = require('pg')
  if (tracedPg === plainPg) throw new Error('could not load a second copy of pg')
  instrumentPg(tracedPg)
  const plainPool = new plainPg.Pool({ connectionString: url, max: 4 })
  const tracedPool = new tracedPg.Pool({ connectionString: url, max: 4 })
  const plainClient = await plainPool.connect()
  const tracedClient = await tracedPool.connect()
  const tracer = core.getTracer('bench')
  const loop = async (query) => {
    for (let i = 0; i < BATCH; i++) await query()
  }
  const inSpan = (fn) => core.trace('batch', fn)
  const variants = {
    'pool, untraced': () => loop(() => plainPool.query('SELECT 1')),
    'pool, span by hand': () =>
      inSpan(() =>
        loop(async () => {
          const span = tracer.startSpan('SELECT', { kind: core.SpanKind.CLIENT })
          span.setAttribute('db.system.name', 'postgresql')
          span.setAttribute('db.namespace', 'bench')
          span.setAttribute('db.operation.name', 'SELECT')
          span.setAttribute('db.query.text', 'SELECT ?')
          span.setAttribute('server.address', '127.0.0.1')
          span.setAttribute('server.port', 5432)
          span.setAttribute('db.client.connection.pool.name', '127.0.0.1:5432/bench')
          const result = await plainPool.query('SELECT 1')
          span.setAttribute('db.response.returned_rows', result.rows.length)
          span.end()
        }),
      ),
    'client, untraced': () => loop(() => plainClient.query('SELECT 1')),
    'client, instrumented': () => inSpan(() => loop(() => tracedClient.query('SELECT 1'))),
    'pool, instrumented': () => inSpan(() => loop(() => tracedPool.query('SELECT 1'))),
  }
  const baseOf = {
    'pool, span by hand': 'pool, untraced',
    'client, instrumented': 'client, untraced',
    'pool, instrumented': 'pool, untraced',
  }
  const names = Object.keys(variants)
  const user = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.slice()
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    for (const n of order) {
      const c0 = process.cpuUsage()
      await variants[n]()
      if (round >= WARMUP_ROUNDS) user[n].push(process.cpuUsage(c0).user / BATCH)
    }
  }
  console.log(
    `SELECT 1, ${BATCH} sequential queries per variant and round, ${ROUNDS - WARMUP_ROUNDS} rounds in random order, one process; user-mode CPU per query (medians)`,
  )
  console.log('variant                 µs/query   added')
  for (const n of names) {
    const base = baseOf[n]
    const added = base ? median(user[n].map((x, k) => x - user[base][k])).toFixed(1) : ''
    console.log(`${n.padEnd(22)} ${median(user[n]).toFixed(1).padStart(9)}   ${added.padStart(5)}`)
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (2 CPUs)`,
  )
  plainClient.release()
  tracedClient.release()
  await Promise.all([plainPool.end(), tracedPool.end(), core.shutdown()])
  process.exit(0)
}

function median(xs) {
  const sorted = xs.slice().sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
