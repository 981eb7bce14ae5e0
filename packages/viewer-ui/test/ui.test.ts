import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { init, OtlpExporter, recordError, SpanKind, trace } from '@threadline/core'
import { startViewer, type Viewer } from '@threadline/viewer'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bigTrace,
  failingTrace,
  newTraceId,
  orderTrace,
  otlpPayload,
  post,
  XSS_ATTR,
  XSS_NAME,
  xssTrace,
} from './traces.js'

const here = dirname(fileURLToPath(import.meta.url))
const packageDir = join(here, '..')
const dist = join(packageDir, 'dist')
const artifacts = join(packageDir, '..', '..', 'test-artifacts', 'viewer-ui')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

let viewer: Viewer
let browser: Browser
let base: string
const ids = { order: '', failing: '', xss: '', big: '', checkout: '', order2: '' }
const xssDialogs: string[] = []
const consoleErrors: string[] = []

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.on('dialog', (d) => {
    xssDialogs.push(d.message())
    void d.dismiss()
  })
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    // a 404 for a trace id the test asks for on purpose would be fine; nothing else is
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`)
  })
  await page.goto(`${base}${path}`)
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false })
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true })
  // build the UI exactly as `npm run build` does (vite, on the Node running the tests)
  execFileSync(
    process.execPath,
    [join(packageDir, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: packageDir,
      stdio: 'inherit',
    },
  )
  viewer = await startViewer({ uiDir: dist, otlpHttpPort: 0, otlpGrpcPort: 0, zipkinPort: 0, uiPort: 0 })
  base = `http://127.0.0.1:${viewer.ports.ui}`

  const now = Date.now()
  ids.order = newTraceId()
  await post(viewer.urls.otlpHttp, otlpPayload(ids.order, now - 50_000, orderTrace(8)))
  ids.order2 = newTraceId()
  await post(viewer.urls.otlpHttp, otlpPayload(ids.order2, now - 40_000, orderTrace(3)))
  ids.failing = newTraceId()
  await post(viewer.urls.otlpHttp, otlpPayload(ids.failing, now - 30_000, failingTrace()))
  ids.xss = newTraceId()
  await post(viewer.urls.otlpHttp, otlpPayload(ids.xss, now - 20_000, xssTrace()))
  ids.big = newTraceId()
  await post(viewer.urls.otlpHttp, otlpPayload(ids.big, now - 10_000, bigTrace(10_000)))

  // and one trace from real instrumented code: @threadline/core exporting OTLP into the viewer
  const sdk = init({
    serviceName: 'checkout',
    exporter: new OtlpExporter({ url: viewer.urls.otlpHttp, protocol: 'http/json' }),
    batch: false,
    instrument: { fetch: false, http: false },
  })
  await trace(
    'POST /cart/checkout',
    async (root) => {
      ids.checkout = root.spanContext().traceId
      await Promise.all(
        [1, 2, 3, 4].map((n) =>
          trace('SELECT prices', async () => new Promise((r) => setTimeout(r, 5 + n)), {
            kind: SpanKind.CLIENT,
            attributes: {
              'db.system.name': 'postgresql',
              'db.query.summary': 'SELECT prices',
              'db.query.text': 'SELECT price FROM prices WHERE sku = $1',
            },
          }),
        ),
      )
      await trace('charge card', async (span) => {
        await new Promise((r) => setTimeout(r, 3))
        recordError(span, new TypeError('card declined'))
      })
    },
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': '/cart/checkout' } },
  )
  await sdk.forceFlush()
  await sdk.shutdown()

  if (!existsSync(CHROMIUM)) return // the suite below is skipped: apt-get install -y chromium
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
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await viewer?.close()
})

describe.skipIf(!existsSync(CHROMIUM))('viewer web UI in Chromium', () => {
  it('serves the built UI as static files, nothing from another origin', async () => {
    const page = await open('/')
    const external: string[] = []
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
        external.push(r.url())
    })
    await page.reload()
    await page.locator('.trace-item').first().waitFor()
    expect(external).toEqual([])
    expect(await page.title()).toBe('Threadline')
    await page.close()
  })

  it('search: lists traces with services, durations and errors; filters narrow the results', async () => {
    const page = await open('/search')
    const items = page.locator('.trace-item')
    await expect.poll(() => items.count()).toBe(6)
    await page.locator('.trace-item .tag-n-plus-one').first().waitFor()
    await shot(page, 'search')

    await page.selectOption('select[name=service]', 'catalog')
    await page.click('button[type=submit]')
    await expect.poll(() => items.count()).toBe(3)
    expect(page.url()).toContain('service=catalog')
    expect(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-trace-id')).sort())).toEqual(
      [ids.order, ids.order2, ids.big].sort(),
    )

    await page.selectOption('select[name=service]', '')
    await page.check('input[name=error]')
    await page.click('button[type=submit]')
    await expect.poll(() => items.count()).toBe(2)
    const failing = await page.locator(`.trace-item[data-trace-id="${ids.failing}"]`).count()
    expect(failing).toBe(1)
    await expect.poll(() => page.locator(`.trace-item[data-trace-id="${ids.checkout}"]`).count()).toBe(1)

    await page.uncheck('input[name=error]')
    await page.fill('input[name=attrs]', 'http.route=/checkout')
    await page.click('button[type=submit]')
    await expect
      .poll(() => items.evaluateAll((els) => els.map((e) => e.getAttribute('data-trace-id'))))
      .toEqual([ids.failing])

    await page.fill('input[name=attrs]', '')
    await page.fill('input[name=minDuration]', '1s')
    await page.click('button[type=submit]')
    await expect
      .poll(() => items.evaluateAll((els) => els.map((e) => e.getAttribute('data-trace-id'))))
      .toEqual([ids.big])

    // findings as a search filter
    await page.goto(`${base}/search?finding=n-plus-one`)
    await expect.poll(() => items.count()).toBe(4)
    expect(await page.locator(`.trace-item[data-trace-id="${ids.failing}"]`).count()).toBe(0)
    await page.close()
  })

  it('trace: the waterfall shows rows with parent/child indentation; clicking a span shows its attributes', async () => {
    const page = await open(`/trace/${ids.order}`)
    const rows = page.locator('.wf-row')
    await rows.first().waitFor()
    // 9 fixed spans + 3 per item (8 items)
    expect(await rows.count()).toBe(33)
    const depths = await rows.evaluateAll((els) =>
      els.slice(0, 9).map((e) => [e.querySelector('.op')!.textContent, Number(e.getAttribute('data-depth'))]),
    )
    expect(depths).toEqual([
      ['GET /orders/:id', 0],
      ['GET', 1],
      ['GET /orders/:id', 2],
      ['SELECT orders', 3],
      ['POST', 3],
      ['POST /graphql', 4],
      ['query OrderItems', 5],
      ['Query.order', 6],
      ['SELECT order_items', 7],
    ])
    const indent = async (i: number) =>
      rows
        .nth(i)
        .locator('.op')
        .evaluate((e) => e.getBoundingClientRect().left)
    expect(await indent(3)).toBeGreaterThan(await indent(2))
    expect(await indent(2)).toBeGreaterThan(await indent(0))

    await rows.filter({ hasText: 'SELECT order_items' }).click()
    const detail = page.getByTestId('span-detail')
    await detail.waitFor()
    const attributes = page.getByTestId('span-attributes')
    await expect
      .poll(() => attributes.locator('tr', { hasText: 'db.query.summary' }).locator('td').textContent())
      .toBe('SELECT order_items')
    expect(await detail.locator('pre.document').first().textContent()).toContain(
      'FROM order_items\nWHERE order_id = $1',
    )
    expect(page.url()).toContain('span=')
    await shot(page, 'trace-waterfall')

    // the GraphQL document is shown formatted
    await rows.filter({ hasText: 'query OrderItems' }).click()
    await expect.poll(() => detail.locator('pre.document').textContent()).toContain('order(id: $id) {\n')

    // collapse a subtree, then in-trace search
    await rows.filter({ hasText: 'query OrderItems' }).locator('button.toggle').click()
    await expect.poll(() => rows.count()).toBe(7)
    await page.getByTestId('trace-search').fill('products')
    await page.getByTestId('trace-search').press('Enter')
    await expect.poll(() => rows.count()).toBe(33)
    await expect.poll(() => page.locator('.wf-row.match').count()).toBe(8)
    await page.close()
  })

  it('trace: an N+1 finding appears, tied to the GraphQL field path, and selects its spans', async () => {
    const page = await open(`/trace/${ids.order}`)
    const finding = page.locator('.finding[data-finding=n-plus-one]')
    await finding.waitFor()
    expect(await finding.textContent()).toContain('SELECT products × 8 resolving order.items.*.product')
    await finding.locator('button').click()
    await expect.poll(() => page.locator('.wf-row.flagged').count()).toBe(8)
    await expect
      .poll(() => page.getByTestId('span-detail').locator('.detail-name').textContent())
      .toBe('SELECT products')
    // critical path is drawn
    expect(await page.locator('.bar .crit').count()).toBeGreaterThan(3)
    await shot(page, 'trace-n-plus-one')

    await page.click('button[role=tab]:has-text("Statistics")')
    await page.getByTestId('stats-operations').waitFor()
    expect(
      await page
        .getByTestId('stats-operations')
        .locator('tr', { hasText: 'SELECT products' })
        .locator('td')
        .nth(2)
        .textContent(),
    ).toBe('8')
    await shot(page, 'trace-statistics')
    await page.close()
  })

  it('trace: the error root cause points at the failing query, with its exception and stack', async () => {
    const page = await open(`/trace/${ids.failing}`)
    const finding = page.locator('.finding[data-finding=error-root-cause]').first()
    await finding.waitFor()
    expect(await finding.textContent()).toContain('Error started in UPDATE stock (orders)')
    await finding.locator('button').click()
    const detail = page.getByTestId('span-detail')
    await expect.poll(() => detail.locator('.exc-title').textContent()).toBe('DatabaseError: deadlock detected')
    expect(await detail.locator('pre.stack').textContent()).toContain('reserveStock')
    await shot(page, 'trace-error')
    // events (logs) of a span, with their offset and attributes
    await page.locator('.wf-row', { hasText: 'POST /orders' }).click()
    await expect.poll(() => detail.locator('.events li').first().textContent()).toContain('cart validated')
    expect(await detail.locator('.events li').first().textContent()).toContain('cart.items3')
    await page.close()

    // the trace made by @threadline/core: concurrent repeats and its error
    const core = await open(`/trace/${ids.checkout}`)
    await core.locator('.finding[data-finding=n-plus-one]').waitFor()
    expect(await core.locator('.finding[data-finding=n-plus-one]').textContent()).toContain('SELECT prices × 4')
    expect(await core.locator('.finding[data-finding=error-root-cause]').first().textContent()).toContain(
      'charge card (checkout)',
    )
    await core.close()
  })

  it('service map: services and the database as nodes, calls as edges', async () => {
    const page = await open('/map')
    const map = page.getByTestId('service-map')
    await map.waitFor()
    const edges = await map.locator('.edge').evaluateAll((els) => els.map((e) => e.getAttribute('data-edge')).sort())
    expect(edges).toEqual(
      expect.arrayContaining(['catalog->postgresql', 'gateway->orders', 'orders->catalog', 'orders->postgresql']),
    )
    expect(await map.locator('.node.database').count()).toBeGreaterThanOrEqual(1)
    await shot(page, 'service-map')
    await map.locator('.node[data-node=catalog]').click()
    await page.waitForURL(/\/search\?service=catalog/)
    await page.close()
  })

  it('operations, compare, findings and import/export pages render', async () => {
    const ops = await open('/operations?service=gateway&operation=GET%20%2Forders%2F%3Aid&slo=50ms%4099%25')
    await ops.getByTestId('chart-latency').locator('canvas').first().waitFor()
    await ops.getByTestId('histogram').locator('rect').first().waitFor()
    expect(await ops.getByTestId('slo').textContent()).toContain('Breach rate')
    await shot(ops, 'operations')
    await ops.close()

    // orders' GET /orders/:id is not the root of its traces: its spans take 114 ms, its traces 120 ms,
    // so a 115 ms objective is met by the spans (with trace durations it would be breached 2/2)
    const inner = await open('/operations?service=orders&operation=GET%20%2Forders%2F%3Aid&slo=115ms%4099%25')
    await inner.getByTestId('histogram').locator('rect').first().waitFor()
    await expect.poll(() => inner.getByTestId('slo-breach-rate').textContent()).toContain('(0/2)')
    expect(await inner.getByTestId('histogram').textContent()).toContain('2 GET /orders/:id spans')
    await inner.close()

    const cmp = await open(`/compare?a=${ids.order2}&b=${ids.order}`)
    await cmp.getByTestId('compare-table').waitFor()
    expect(await cmp.locator('tr[data-change=added]').count()).toBe(15)
    await shot(cmp, 'compare')
    await cmp.close()

    const findings = await open('/findings')
    await findings.locator('[data-testid=findings-page] .finding').first().waitFor()
    expect(await findings.locator('.finding[data-finding=n-plus-one]').count()).toBeGreaterThanOrEqual(3)
    await shot(findings, 'findings')
    await findings.close()

    // export a trace as OTLP JSON, then open that file
    const page = await open(`/trace/${ids.failing}`)
    await page.locator('.wf-row').first().waitFor()
    const download = page.waitForEvent('download')
    await page.click('button:has-text("Export OTLP JSON")')
    const file = join(artifacts, 'exported-trace.json')
    await (await download).saveAs(file)
    const doc = JSON.parse(await (await import('node:fs/promises')).readFile(file, 'utf8'))
    expect(doc.resourceSpans.length).toBe(2)
    const fresh = await open('/search')
    await fresh.getByTestId('import-file').setInputFiles(file)
    await fresh.waitForURL(/source=file/)
    await expect.poll(() => fresh.locator('.wf-row').count()).toBe(6)
    expect(await fresh.locator('.badge', { hasText: 'from file' }).count()).toBe(1)
    await page.close()
    await fresh.close()
  })

  it('renders hostile span names and attributes as text; nothing executes', async () => {
    const page = await open(`/trace/${ids.xss}`)
    await page.locator('.wf-row').first().waitFor()
    await page.locator('.wf-row').first().click()
    await page.getByTestId('span-detail').waitFor()
    await page.locator('.wf-row').nth(1).click()
    await page.getByTestId('span-detail').waitFor()
    expect(await page.locator('.wf-row .op').first().textContent()).toBe(XSS_NAME)
    await page.locator('.wf-row').first().click()
    expect(await page.getByTestId('span-attributes').textContent()).toContain(XSS_ATTR)
    await page.goto(`${base}/search`)
    await page.locator('.trace-item').first().waitFor()
    await page.goto(`${base}/search?service=${encodeURIComponent('<i>svc</i>')}`)
    await page.goto(`${base}/map`)
    await page.getByTestId('service-map').waitFor()
    await page.goto(`${base}/findings`)
    await page.locator('[data-testid=findings-page] .finding').first().waitFor()
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(await page.locator('img[src=x], iframe, svg[onload]').count()).toBe(0)
    expect(xssDialogs).toEqual([])
    await page.goto(`${base}/trace/${ids.xss}`)
    await page.locator('.wf-row').first().click()
    await shot(page, 'xss-as-text')
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    await page.close()
  })

  it('renders a 10,000-span trace in under 2 s', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    // warm the browser's cache of the app's assets, as a user's second visit would
    await page.goto(`${base}/map`)
    await page.getByTestId('service-map').waitFor()
    // navigation start → rows on screen (the UI's own performance mark), best of up to five: the
    // limit is the 2 s; retries keep a 2-core CI machine busy with other test files from
    // failing it on a hiccup (an idle one measures 0.7–1.2 s, most of it fetching and parsing the
    // API's 4 MB of JSON)
    const timings: number[] = []
    for (let i = 0; i < 5 && !(timings.length && Math.min(...timings) < 2000); i++) {
      await page.goto(`${base}/trace/${ids.big}`)
      await page.locator('.wf-row').first().waitFor()
      await page.waitForFunction(() => performance.getEntriesByName('tl:trace-rendered').length > 0)
      timings.push(
        await page.evaluate(() => Math.round(performance.getEntriesByName('tl:trace-rendered')[0]!.startTime)),
      )
    }
    writeFileSync(
      join(artifacts, 'big-trace-timing.txt'),
      `10,000-span trace, navigation start to rows rendered: ${timings.join(', ')} ms\n`,
    )
    console.log(`10,000-span trace rendered in ${timings.join(', ')} ms`)
    expect(Math.min(...timings)).toBeLessThan(2000)
    expect(await page.locator('.trace-meta').textContent()).toContain('10,000')
    // virtualised: only the rows in view are in the DOM
    expect(await page.locator('.wf-row').count()).toBeLessThan(100)
    await page.getByTestId('waterfall').evaluate((el) => {
      el.scrollTop = 5000 * 26
    })
    await expect.poll(() => page.locator('.wf-row[data-depth="3"]').count()).toBeGreaterThan(10)
    await page.locator('.finding').first().waitFor()
    await shot(page, 'trace-10k')
    await page.close()
  })

  it('new traces appear without reloading; deep links restore the view', async () => {
    const page = await open('/search?service=gateway')
    const items = page.locator('.trace-item')
    await expect.poll(() => items.count()).toBe(4)
    const fresh = newTraceId()
    await post(viewer.urls.otlpHttp, otlpPayload(fresh, Date.now() - 500, failingTrace()))
    await page.locator(`.trace-item[data-trace-id="${fresh}"]`).waitFor()
    expect(await items.count()).toBe(5)
    await page.close()

    // a trace link with a selected span, an in-trace search and a collapsed subtree
    const spans = (await (await fetch(`${base}/api/v1/traces/${ids.order}`)).json()) as {
      spans: { spanId: string; name: string }[]
    }
    const op = spans.spans.find((s) => s.name === 'query OrderItems')!
    const orders = spans.spans.find((s) => s.name === 'SELECT orders')!
    const deep = await open(`/trace/${ids.order}?span=${orders.spanId}&q=order&collapsed=${op.spanId}`)
    await deep.getByTestId('span-detail').waitFor()
    expect(await deep.getByTestId('span-detail').locator('.detail-name').textContent()).toBe('SELECT orders')
    expect(await deep.getByTestId('trace-search').inputValue()).toBe('order')
    expect(await deep.locator('.wf-row').count()).toBe(7)
    await deep.goBack()
    await deep.close()
  })

  it('no page logged an error or a Content-Security-Policy violation', () => {
    expect(consoleErrors).toEqual([])
  })
})
