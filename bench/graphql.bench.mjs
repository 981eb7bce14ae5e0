// GraphQL execution cost: a query resolving 100 objects x 5 fields (2 default resolvers, 1 sync
// and 2 async user resolvers), untraced vs Threadline vs OpenTelemetry instrumentation-graphql,
// in one run: medians of per-execution CPU time (process.cpuUsage: on a shared machine wall time
// mostly measures the other processes), each variant in its own process so none runs with another
// one's tracer loaded, heap or optimised code, alternating variants every round.
//
// OpenTelemetry's instrumentation-graphql supports graphql <17, so the comparison with it runs on
// graphql 16 (each tracer against the untraced baseline of the same graphql); Threadline also runs
// on graphql 17 through its tracing channels. Both SDKs export through a batch processor into an
// exporter that discards. Imports Threadline from the built dist (`npm run bench` builds first).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const ITEMS = 100
const WARMUP_EXECUTIONS = 300
const EXECUTIONS = 600
const ROUNDS = 11

const VARIANTS = [
  'graphql 17 untraced',
  'graphql 17 Threadline (channels)',
  'graphql 16 untraced',
  'graphql 16 Threadline (instrumentSchema)',
  'graphql 16 Threadline (instrumentExecute)',
  'graphql 16 OpenTelemetry',
]

const FIXTURE = new URL('../packages/graphql/test/apollo-fixture/package.json', import.meta.url)
const SOURCE = 'query Items { items { id name price details score } }'
const tick = () => new Promise((resolve) => setImmediate(resolve))

function buildSchema(g) {
  const Item = new g.GraphQLObjectType({
    name: 'Item',
    fields: {
      id: { type: g.GraphQLID },
      name: { type: g.GraphQLString },
      price: { type: g.GraphQLFloat, resolve: (item) => item.cents / 100 },
      details: { type: g.GraphQLString, resolve: async (item) => `details of ${item.name}` },
      score: { type: g.GraphQLInt, resolve: async (item) => item.cents % 7 },
    },
  })
  const Query = new g.GraphQLObjectType({
    name: 'Query',
    fields: {
      items: {
        type: new g.GraphQLList(Item),
        resolve: async () => Array.from({ length: ITEMS }, (_, i) => ({ id: i, name: `item ${i}`, cents: i * 137 })),
      },
    },
  })
  return new g.GraphQLSchema({ query: Query })
}

const discard = { export: async () => ({ ok: true }), shutdown: async () => {} }

/** One variant in this process: its graphql, its tracer; prints CPU µs per execution. */
async function child(name) {
  let g
  let schema
  let shutdown = async () => {}
  let dropped = () => 0
  let execute
  if (name.includes('OpenTelemetry')) {
    const { context } = await import('@opentelemetry/api')
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
    const { registerInstrumentations } = await import('@opentelemetry/instrumentation')
    const { GraphQLInstrumentation } = await import('@opentelemetry/instrumentation-graphql')
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
    // registered before graphql is loaded, as its docs require. It patches a module named `graphql`
    // (not the `graphql16` alias): the Apollo test fixture's graphql 16, loaded through require.
    registerInstrumentations({ tracerProvider: provider, instrumentations: [new GraphQLInstrumentation()] })
    g = createRequire(FIXTURE)('graphql')
    schema = buildSchema(g)
    shutdown = () => provider.shutdown()
  } else {
    g = await import(name.startsWith('graphql 17') ? 'graphql' : 'graphql16')
    schema = buildSchema(g)
    if (name.includes('Threadline')) {
      const tl = await import('../packages/core/dist/index.mjs')
      const { instrumentExecute, instrumentGraphql, instrumentSchema } = await import(
        '../packages/graphql/dist/index.mjs'
      )
      tl.init({
        serviceName: 'bench',
        exporter: discard,
        propagators: ['none'],
        instrument: { fetch: false, http: false },
      })
      if (name.includes('channels')) instrumentGraphql()
      else if (name.includes('instrumentExecute')) execute = instrumentExecute(g.execute)
      else instrumentSchema(schema)
      shutdown = () => tl.shutdown()
      dropped = () => tl.stats().spansDropped
    }
  }
  const document = g.parse(SOURCE)
  execute ??= g.execute
  const executions = async (count) => {
    for (let i = 0; i < count; i++) {
      const result = await execute({ schema, document })
      if (result.errors) throw result.errors[0]
      // back to the event loop, as a server is between requests: batch processors export here
      await tick()
    }
  }
  await executions(WARMUP_EXECUTIONS)
  globalThis.gc?.()
  const start = process.cpuUsage()
  await executions(EXECUTIONS)
  const cpu = process.cpuUsage(start)
  await shutdown()
  console.log(JSON.stringify({ us: (cpu.user + cpu.system) / EXECUTIONS, dropped: dropped() }))
}

async function parent() {
  const file = fileURLToPath(import.meta.url)
  const variants = VARIANTS.filter(
    (v) => !v.includes('OpenTelemetry') || existsSync(new URL('node_modules/graphql', FIXTURE)),
  )
  if (variants.length < VARIANTS.length) {
    console.log('(OpenTelemetry line skipped: run `npm install --prefix packages/graphql/test/apollo-fixture`)')
  }
  const loadBefore = loadavg()
  const samples = new Map(variants.map((v) => [v, []]))
  let dropped = 0
  for (let round = 0; round < ROUNDS; round++) {
    // rotate the order so no variant always runs first
    for (let k = 0; k < variants.length; k++) {
      const name = variants[(round + k) % variants.length]
      const run = spawnSync(process.execPath, ['--expose-gc', file, name], { encoding: 'utf8' })
      if (run.status !== 0) throw new Error(`${name} failed:\n${run.stderr}`)
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1))
      samples.get(name).push(result.us)
      dropped += result.dropped
    }
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const med = Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]))
  console.log(
    `${ITEMS} objects x 5 fields (3 user resolvers: 1 sync, 2 async), ${EXECUTIONS} executions per process x ${ROUNDS} rounds, median CPU time per execution`,
  )
  const base = (name) => med[name.startsWith('graphql 17') ? 'graphql 17 untraced' : 'graphql 16 untraced']
  for (const [name, us] of Object.entries(med)) {
    const ratio = us / base(name)
    const overhead = name.endsWith('untraced') ? '' : `  ${ratio.toFixed(2)}x  (+${((ratio - 1) * 100).toFixed(1)}%)`
    const rounds = [...samples.get(name)].sort((a, b) => a - b).map((x) => x.toFixed(0))
    console.log(
      `  ${name.padEnd(42)} ${us.toFixed(0).padStart(7)} µs${overhead.padEnd(18)}  rounds: ${rounds.join(' ')}`,
    )
  }
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ')
  console.log(
    `  load average before: ${load(loadBefore)}, after: ${load(loadavg())} (${navigator.hardwareConcurrency} CPUs)`,
  )
  if (dropped) console.log(`  (Threadline dropped ${dropped} spans: its figures include less export work)`)
}

if (process.argv[2]) await child(process.argv[2])
else await parent()
