// GraphQL execution cost: a query resolving 100 objects x 5 fields (2 default resolvers, 1 sync
// and 2 async user resolvers), untraced vs Threadline vs OpenTelemetry instrumentation-graphql,
// in one run, alternating variants every round, medians of per-execution time reported.
//
// OpenTelemetry's instrumentation-graphql supports graphql <17, so the comparison with it runs on
// graphql 16 (each tracer against the untraced baseline of the same graphql); Threadline also runs
// on graphql 17 through its tracing channels. Both SDKs export through a batch processor into an
// exporter that discards. Imports Threadline from the built dist (`npm run bench` builds first).
import { createRequire } from 'node:module'
import { context as otelContext } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import * as g17 from 'graphql'
import * as g16 from 'graphql16'
import * as tl from '../packages/core/dist/index.mjs'
import { instrumentGraphql, instrumentSchema } from '../packages/graphql/dist/index.mjs'

const ITEMS = 100
const EXECUTIONS = 200
const ROUNDS = 15
const WARMUP = 3

// --- OpenTelemetry: registered before its graphql copy is loaded, as its docs require.
const otelDiscard = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const otelProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(otelDiscard)] })
registerInstrumentations({ tracerProvider: otelProvider, instrumentations: [new GraphQLInstrumentation()] })
// A separate graphql 16 install (the Apollo test fixture), so OpenTelemetry patches that copy only.
let gOtel
try {
  gOtel = createRequire(new URL('../packages/graphql/test/apollo-fixture/package.json', import.meta.url))('graphql')
} catch {
  console.log('(OpenTelemetry line skipped: run `npm install --prefix packages/graphql/test/apollo-fixture`)')
}

// --- Threadline
tl.init({
  serviceName: 'bench',
  exporter: { export: async () => ({ ok: true }), shutdown: async () => {} },
  propagators: ['none'],
  instrument: { fetch: false, http: false },
})

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

const SOURCE = 'query Items { items { id name price details score } }'

function variant(name, g, schema, around = (fn) => fn()) {
  const document = g.parse(SOURCE)
  return {
    name,
    async run() {
      return around(async () => {
        const start = performance.now()
        for (let i = 0; i < EXECUTIONS; i++) {
          const result = await g.execute({ schema, document })
          if (result.errors) throw result.errors[0]
        }
        const perExecution = (performance.now() - start) / EXECUTIONS
        await tick() // let batch processors export, as between requests
        return perExecution
      })
    },
  }
}

// instrumentSchema also enables graphql 17's channels: keep them off except in their own variant.
const tlSchema16 = instrumentSchema(buildSchema(g16))
instrumentGraphql()()
const withChannels = async (fn) => {
  const off = instrumentGraphql()
  try {
    return await fn()
  } finally {
    off()
  }
}

const variants = [
  variant('graphql 17 untraced', g17, buildSchema(g17)),
  variant('graphql 17 Threadline (channels)', g17, buildSchema(g17), withChannels),
  variant('graphql 16 untraced', g16, buildSchema(g16)),
  variant('graphql 16 Threadline (instrumentSchema)', g16, tlSchema16),
]
if (gOtel) variants.push(variant('graphql 16 OpenTelemetry', gOtel, buildSchema(gOtel)))

const samples = new Map(variants.map((v) => [v.name, []]))
for (let round = 0; round < WARMUP + ROUNDS; round++) {
  // rotate the order so no variant always runs first (or right after a GC-heavy one)
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(round + k) % variants.length]
    globalThis.gc?.()
    const ms = await v.run()
    if (round >= WARMUP) samples.get(v.name).push(ms)
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const med = Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]))
console.log(
  `${ITEMS} objects x 5 fields (3 user resolvers: 1 sync, 2 async), ${EXECUTIONS} executions x ${ROUNDS} rounds, median per execution`,
)
const base = (name) => med[name.startsWith('graphql 17') ? 'graphql 17 untraced' : 'graphql 16 untraced']
for (const [name, ms] of Object.entries(med)) {
  const ratio = ms / base(name)
  const overhead = name.endsWith('untraced') ? '' : `  ${ratio.toFixed(2)}x  (+${((ratio - 1) * 100).toFixed(1)}%)`
  console.log(`  ${name.padEnd(42)} ${(ms * 1000).toFixed(0).padStart(7)} µs${overhead}`)
}
await otelProvider.shutdown()
await tl.shutdown()
