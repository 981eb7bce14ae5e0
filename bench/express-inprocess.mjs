// Where Threadline's Express middleware spends its time inside a running server, measured in one
// process: requests come at a fixed rate from autocannon (another process), and every BLOCK
// requests the server switches to the next of several variants of the first middleware, in a new
// random order each cycle:
//   off           next() only: the baseline
//   off (control) the same as off: its figure is the method's own bias and noise
//   context       a fresh AsyncLocalStorage store active for the request and a 'close' listener, no
//                 Threadline: the least any tracer that propagates a per-request context pays
//   span          extract the parent, start a SERVER span, make it active for the request, end it
//                 when the response closes (the lifecycle every adapter needs, nothing else)
//   span, twice   two such spans per request (the second a sibling, ended at the same time): what
//                 one more span costs a request that already has one
//   server span   core's startServerSpan: the above plus the request attributes, status, route hook
//   middleware    @threadline/express's threadline(): the above plus Express route and error tracking
// Each variant's block is compared with the `off` block of the same cycle (main-thread CPU per
// request), and the median of those differences is printed. All variants share one heap, one JIT
// state and one machine state, so this is steadier on a noisy machine than comparing two server
// processes (express.bench.mjs), at the price of leaving out what the tracer costs a process as a
// whole: the export (spans go over OTLP to a sink process, as in express.bench.mjs) runs wherever
// its timer fires, so its cost is spread over every variant, `off` included.
// A diagnostic, not one of `npm run bench`'s comparisons (OpenTelemetry's instrumentation cannot
// be switched per request): `npx turbo run build && npx node bench/express-inprocess.mjs`.

import { AsyncLocalStorage } from 'node:async_hooks'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'

const require = createRequire(import.meta.url)
const BLOCK = 400
const RATE = 2500
const SECONDS = Number(process.env.BENCH_SECONDS ?? 100)
const WARMUP_REQUESTS = 10_000

const sink = createServer((req, res) => {
  req.resume()
  req.on('end', () => res.writeHead(200).end())
})
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve))

const tl = await import('@threadline/core')
tl.init({
  serviceName: 'bench',
  exporter: new tl.OtlpExporter({ url: `http://127.0.0.1:${sink.address().port}/v1/traces` }),
})
const { threadline } = await import('@threadline/express')
const express = require('express')
const tracer = tl.getTracer('bench')
const storage = new AsyncLocalStorage()

const variants = {
  off: (_req, _res, next) => next(),
  'off (control)': (_req, _res, next) => next(),
  context: (req, res, next) => {
    const store = { req, ended: false }
    res.on('close', () => {
      store.ended = true
    })
    storage.run(store, next)
  },
  span: (req, res, next) => {
    const parent = tl.extract(req.headers)
    const span = tracer.startSpan('GET', { kind: tl.SpanKind.SERVER }, parent)
    res.on('close', () => span.end())
    tl.withContext(tl.contextWithSpan(parent, span), next)
  },
  'span, twice': (req, res, next) => {
    const parent = tl.extract(req.headers)
    const first = tracer.startSpan('GET', { kind: tl.SpanKind.SERVER }, parent)
    const span = tracer.startSpan('GET', { kind: tl.SpanKind.SERVER }, parent)
    res.on('close', () => {
      first.end()
      span.end()
    })
    tl.withContext(tl.contextWithSpan(parent, span), next)
  },
  'server span': (req, res, next) => tl.startServerSpan(req, res, { tracer }).run(next),
  middleware: threadline(),
}
const names = Object.keys(variants)
const order = names.slice()
const blocks = Object.fromEntries(names.map((n) => [n, []]))
let count = 0
let position = 0
let current = variants.off
let last = process.threadCpuUsage()

const app = express()
app.use((req, res, next) => {
  if (++count % BLOCK === 0) {
    const now = process.threadCpuUsage()
    if (count > WARMUP_REQUESTS) blocks[order[position]].push((now.user + now.system - last.user - last.system) / BLOCK)
    last = now
    position = (position + 1) % order.length
    if (position === 0) shuffle(order)
    current = variants[order[position]]
  }
  current(req, res, next)
})
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, name: 'Ada Lovelace', roles: ['admin'] })
})
const server = createServer(app)
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
console.log(
  `Express 5, GET /users/42 at ${RATE} req/s for ${SECONDS}s; the first middleware switched every ${BLOCK} requests between ${names.length} variants in random order; main-thread CPU per request`,
)
const url = `http://127.0.0.1:${server.address().port}/users/42`
await new Promise((resolve) => {
  const args = [
    '-c',
    '10',
    '-d',
    String(SECONDS + Math.ceil(WARMUP_REQUESTS / RATE)),
    '--overallRate',
    String(RATE),
    url,
  ]
  spawn(process.execPath, [require.resolve('autocannon/autocannon.js'), ...args], { stdio: 'ignore' }).on(
    'exit',
    resolve,
  )
})

const cycles = Math.min(...names.map((n) => blocks[n].length))
console.log('variant           µs/req (median)   added vs off (median of same-cycle differences)')
for (const n of names) {
  const added = n === 'off' ? '' : median(blocks[n].slice(0, cycles).map((x, i) => x - blocks.off[i])).toFixed(1)
  console.log(`${n.padEnd(16)} ${median(blocks[n]).toFixed(1).padStart(16)}   ${added.padStart(8)}`)
}
console.log(
  `${cycles} cycles; load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (2+ on a 2-core machine inflates every figure)`,
)
await tl.shutdown()
server.close()
sink.close()

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[list[i], list[j]] = [list[j], list[i]]
  }
}

function median(xs) {
  const sorted = xs.slice().sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
