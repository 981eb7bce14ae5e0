#!/usr/bin/env node
// The demo: starts the Threadline viewer, PostgreSQL, the three services and a traffic
// generator, waits until all are healthy, and stops everything cleanly on Ctrl-C / SIGTERM.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startPostgres } from './postgres.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const HELP = `Threadline demo: gateway (Express) → orders (Koa) → catalog (NestJS + GraphQL) → PostgreSQL

Usage: npm run demo [-- options]

Options:
  --no-traffic      start everything but send no requests (use curl yourself)
  --no-viewer       do not start the viewer; export where OTEL_* variables say
                    (e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 for Jaeger or a Collector)
  --random-ports    pick free ports for everything (tests)
  --ready-json      print one machine-readable line when ready (tests)
  -h, --help        this text
`

let args
try {
  args = parseArgs({
    options: {
      'no-traffic': { type: 'boolean', default: false },
      'no-viewer': { type: 'boolean', default: false },
      'random-ports': { type: 'boolean', default: false },
      'ready-json': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values
} catch (error) {
  console.error(`${error.message}\n\n${HELP}`)
  process.exit(2)
}
if (args.help) {
  console.log(HELP)
  process.exit(0)
}

const random = args['random-ports']
const ports = {
  gateway: random ? 0 : 3000,
  orders: random ? 0 : 3001,
  catalog: random ? 0 : 3002,
  ui: random ? 0 : 16686,
  otlpHttp: random ? 0 : 4318,
  otlpGrpc: random ? 0 : 4317,
  zipkin: random ? 0 : 9411,
}
if (args['no-viewer']) for (const k of ['ui', 'otlpHttp', 'otlpGrpc', 'zipkin']) delete ports[k]

const children = []
let viewer
let postgres
let traffic
let stopping = false

const step = async (label, fn) => {
  const t0 = Date.now()
  process.stdout.write(`  ${label} … `)
  try {
    const result = await fn()
    process.stdout.write(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
    return result
  } catch (error) {
    process.stdout.write('failed\n')
    throw error
  }
}

/** Resolves with a free port, or the given one after checking nobody listens there. */
function claim(port, what) {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} (${what}) is already in use: stop whatever listens there, or run with --random-ports`,
            )
          : error,
      ),
    )
    server.listen(port, '127.0.0.1', () => {
      const { port: got } = server.address()
      server.close(() => resolve(got))
    })
  })
}

async function waitHealthy(name, url, child) {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting`)
    try {
      const response = await fetch(url)
      if (response.ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${name} was not healthy after 30 s (${url})`)
}

function startService(name, entry, env) {
  const child = spawn(process.execPath, [join(here, entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // its own process group: a terminal's Ctrl-C reaches only the runner, which stops the
    // services in order (they still leave by themselves if the runner dies: IPC 'disconnect')
    detached: true,
  })
  const prefix = (stream, out) => {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop()
      // with --ready-json (tests) only the services' errors are shown, so the ready line stays easy to find
      for (const line of lines) {
        // the runner prints each service's URL itself
        if (!line.trim() || /listening on http/.test(line)) continue
        if (out === process.stderr || !args['ready-json']) out.write(`  [${name}] ${line}\n`)
      }
    })
  }
  prefix(child.stdout, process.stdout)
  prefix(child.stderr, process.stderr)
  children.push({ name, child })
  child.once('exit', (code, signal) => {
    if (stopping) return
    console.error(`\n✗ ${name} exited (${signal ?? `code ${code}`}); stopping the demo`)
    stopAll(1)
  })
  return child
}

async function stopAll(code = 0) {
  if (stopping) return
  stopping = true
  clearInterval(traffic)
  console.log('\nstopping the demo …')
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000)
          child.once('exit', () => {
            clearTimeout(kill)
            resolve()
          })
          child.kill('SIGTERM')
        }),
    ),
  )
  await viewer?.close().catch(() => {})
  await postgres?.stop().catch((error) => console.error(`could not stop PostgreSQL: ${error.message}`))
  console.log('stopped: services, viewer and PostgreSQL')
  process.exit(code)
}
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))

function startTraffic(gateway) {
  const words = ['cup', 'kettle', 'grinder', 'blend', 'press', 'glass', 'filter']
  const pick = (n) => 1 + Math.floor(Math.random() * n)
  traffic = setInterval(() => {
    const r = Math.random()
    let request
    if (r < 0.5) request = fetch(`${gateway}/orders/${pick(32)}`)
    else if (r < 0.8) {
      const items = Array.from({ length: pick(3) }, () => ({ productId: pick(40), qty: pick(2) }))
      request = fetch(`${gateway}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer: `visitor-${pick(99)}`, items }),
      })
    } else request = fetch(`${gateway}/catalog/search?q=${words[pick(words.length) - 1]}`)
    request.then((res) => res.arrayBuffer()).catch(() => {})
  }, 400)
}

try {
  console.log('Threadline demo — starting\n')
  for (const [name, port] of Object.entries(ports)) ports[name] = await claim(port, name)
  if (!args['no-viewer']) {
    const { startViewer } = await import('@threadline/viewer')
    viewer = await step('viewer (OTLP, Zipkin, UI)', () =>
      startViewer({
        uiPort: ports.ui,
        otlpHttpPort: ports.otlpHttp,
        otlpGrpcPort: ports.otlpGrpc,
        zipkinPort: ports.zipkin,
        log: () => {},
      }),
    )
  }
  const pgPort = await claim(0, 'postgres')
  postgres = await step('PostgreSQL (embedded) with schema and seed data', () => startPostgres({ port: pgPort }))

  const base = (port) => `http://127.0.0.1:${port}`
  const common = {
    DATABASE_URL: postgres.url,
    ORDERS_URL: base(ports.orders),
    CATALOG_URL: base(ports.catalog),
    // short batches so traces show up in the viewer within a second
    OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? '500',
    ...(viewer ? { OTEL_EXPORTER_OTLP_ENDPOINT: base(viewer.ports.otlpHttp), OTEL_TRACES_EXPORTER: 'otlp' } : {}),
  }
  for (const [name, entry] of [
    ['catalog', 'catalog/dist/main.mjs'],
    ['orders', 'orders/index.mjs'],
    ['gateway', 'gateway/index.mjs'],
  ]) {
    const child = startService(name, entry, { ...common, PORT: String(ports[name]) })
    await step(`${name.padEnd(7)} on ${base(ports[name])}`, () =>
      waitHealthy(name, `${base(ports[name])}/health`, child),
    )
  }
  if (!args['no-traffic']) startTraffic(base(ports.gateway))

  const uiUrl = viewer ? `http://127.0.0.1:${viewer.ports.ui}` : undefined
  console.log('')
  if (uiUrl) console.log(`  Threadline viewer:  ${uiUrl}`)
  console.log(`  Try:                curl ${base(ports.gateway)}/orders/7`)
  console.log(
    `\n${args['no-traffic'] ? 'No traffic generator (--no-traffic).' : 'Sending a little traffic every 400 ms.'} Ctrl-C stops everything.`,
  )
  if (args['ready-json']) {
    console.log(
      `THREADLINE_DEMO_READY ${JSON.stringify({
        gateway: base(ports.gateway),
        orders: base(ports.orders),
        catalog: base(ports.catalog),
        viewer: uiUrl,
        pids: children.map(({ name, child }) => ({ name, pid: child.pid })),
      })}`,
    )
  }
} catch (error) {
  console.error(`\n✗ ${error.message}`)
  await stopAll(1)
}
