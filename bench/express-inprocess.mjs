// What Threadline's Express middleware adds per request inside a running server, measured in one
// process: requests come at a fixed rate from autocannon (another process), and the middleware is
// switched on and off every BLOCK requests. Each "on" block is compared with the "off" block next
// to it (main-thread CPU per request), and the median of those paired differences is printed.
// Both kinds of block share one heap, one JIT state and one machine state, so this is steadier on a
// noisy machine than comparing two server processes (express.bench.mjs), at the price of leaving
// out what the tracer costs a process as a whole (GC of queued spans shared by both kinds of block,
// the export running wherever its timer fires). The "none" control switches nothing: its figure is
// the method's own bias. Spans are exported over OTLP to a sink process, as in express.bench.mjs.
// A diagnostic, not one of `npm run bench`'s comparisons (OpenTelemetry's instrumentation cannot
// be switched per request): `npx turbo run build && npx node bench/express-inprocess.mjs`.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const BLOCK = 500
const RATE = 2500
const SECONDS = 40
const WARMUP_REQUESTS = 10_000

const [mode, sinkUrl] = process.argv.slice(2)
if (mode) await serve(mode, sinkUrl)
else await main()

async function main() {
  const sink = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200).end())
  })
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve))
  const sinkAddress = `http://127.0.0.1:${sink.address().port}`
  console.log(
    `Express 5, GET /users/42 at ${RATE} req/s for ${SECONDS}s per mode; the middleware switched every ${BLOCK} requests in one process; median of paired block differences, main-thread CPU`,
  )
  console.log('mode                              off µs/req   on µs/req   added µs/req (median of pairs)   pairs')
  for (const m of ['none', 'threadline', 'none', 'threadline']) {
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), m, sinkAddress], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let text = ''
      child.stdout.on('data', (d) => {
        text += d
      })
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`${m} exited ${code}`))))
    })
    const label = m === 'none' ? 'control (nothing switched)' : 'threadline middleware'
    console.log(
      `${label.padEnd(32)} ${out.off.toFixed(1).padStart(7)}   ${out.on.toFixed(1).padStart(9)}   ${out.added.toFixed(1).padStart(30)}   ${String(out.pairs).padStart(5)}`,
    )
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (2+ on a 2-core machine inflates every figure)`,
  )
  sink.close()
}

async function serve(mode, sinkUrl) {
  const tl = await import('@threadline/core')
  tl.init({ serviceName: 'bench', exporter: new tl.OtlpExporter({ url: `${sinkUrl}/v1/traces` }) })
  const { threadline } = await import('@threadline/express')
  const express = require('express')
  const app = express()
  const middleware = threadline()
  let count = 0
  let on = false
  let last = process.threadCpuUsage()
  const blocks = { on: [], off: [] }
  app.use((req, res, next) => {
    if (++count % BLOCK === 0) {
      const now = process.threadCpuUsage()
      if (count > WARMUP_REQUESTS) {
        blocks[on ? 'on' : 'off'].push((now.user + now.system - last.user - last.system) / BLOCK)
      }
      last = now
      on = !on
    }
    if (on && mode === 'threadline') middleware(req, res, next)
    else next()
  })
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'Ada Lovelace', roles: ['admin'] })
  })
  const server = createServer(app)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/users/42`
  const seconds = String(SECONDS + Math.ceil(WARMUP_REQUESTS / RATE))
  await new Promise((resolve) => {
    const args = ['-c', '10', '-d', seconds, '--overallRate', String(RATE), url]
    spawn(process.execPath, [require.resolve('autocannon/autocannon.js'), ...args], { stdio: 'ignore' }).on(
      'exit',
      resolve,
    )
  })
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
  const pairs = Math.min(blocks.on.length, blocks.off.length)
  const diffs = Array.from({ length: pairs }, (_, i) => blocks.on[i] - blocks.off[i])
  process.stdout.write(JSON.stringify({ off: median(blocks.off), on: median(blocks.on), added: median(diffs), pairs }))
  await tl.shutdown()
  server.close()
  process.exit(0)
}
