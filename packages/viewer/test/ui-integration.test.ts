/**
 * What the web UI needs from the viewer beyond the query API: findings on the server (search
 * `finding=` and `/traces/{id}/findings`), configured SLOs in the status, p95 on dependency
 * edges, gzipped large answers, and the built UI served at `/`.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import type { StoredSpan, Viewer } from '../src/index.js'
import { ViewerError } from '../src/index.js'
import { makeSpan, traceId } from './spans.js'
import { getJson, startTestViewer } from './viewer.js'

const dir = mkdtempSync(join(tmpdir(), 'threadline-ui-integration-'))
const viewers: Viewer[] = []
afterAll(async () => {
  await Promise.all(viewers.map((v) => v.close()))
  rmSync(dir, { recursive: true, force: true })
})

async function viewerWith(options: Parameters<typeof startTestViewer>[0] = {}): Promise<Viewer> {
  const viewer = await startTestViewer(options)
  viewers.push(viewer)
  return viewer
}

const now = Date.now() * 1000

/** A request that runs one query per item (an N+1): 5 × `SELECT customers` under one server span. */
function nPlusOneTrace(n: number): StoredSpan[] {
  const id = traceId(5000 + n)
  const root = makeSpan({
    traceId: id,
    service: 'orders',
    name: 'GET /orders',
    startUs: now - 60e6 + n,
    durationUs: 100_000,
  })
  const spans = [root]
  for (let i = 0; i < 5; i++) {
    spans.push(
      makeSpan({
        traceId: id,
        service: 'orders',
        name: 'SELECT customers',
        kind: 'client',
        parentSpanId: root.spanId,
        dbSystem: 'postgresql',
        startUs: root.startUs + 10_000 + i * 10_000,
        durationUs: 8000,
        attributes: { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT customers' },
      }),
    )
  }
  return spans
}

/** A plain request: one server span and one query. */
function plainTrace(n: number): StoredSpan[] {
  const id = traceId(6000 + n)
  const root = makeSpan({
    traceId: id,
    service: 'orders',
    name: 'GET /health',
    startUs: now - 50e6 + n,
    durationUs: 2000,
  })
  const sql = makeSpan({
    traceId: id,
    service: 'orders',
    name: 'SELECT 1',
    kind: 'client',
    parentSpanId: root.spanId,
    dbSystem: 'postgresql',
    startUs: root.startUs + 100,
    durationUs: 500,
    attributes: { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT 1' },
  })
  return [root, sql]
}

describe.each(['memory', 'sqlite'])('findings on the server (%s store)', (kind) => {
  it('filters a search by finding and lists a trace’s findings', async () => {
    const viewer = await viewerWith({ store: kind === 'memory' ? 'memory' : join(dir, 'findings.db') })
    await viewer.store.add([...nPlusOneTrace(1), ...plainTrace(1), ...nPlusOneTrace(2), ...plainTrace(2)])

    const all = await getJson<{ traces: { traceId: string }[] }>(viewer, '/api/v1/traces?lookback=1h&limit=50')
    expect(all.body.traces).toHaveLength(4)

    const n1 = await getJson<{ traces: { traceId: string }[] }>(viewer, '/api/v1/traces?lookback=1h&finding=n-plus-one')
    expect(n1.status).toBe(200)
    expect(n1.body.traces.map((t) => t.traceId).sort()).toEqual([traceId(5001), traceId(5002)])
    // the limit counts matching traces, and snake_case is accepted
    const one = await getJson<{ traces: unknown[] }>(viewer, '/api/v1/traces?lookback=1h&finding=n_plus_one&limit=1')
    expect(one.body.traces).toHaveLength(1)

    const errors = await getJson<{ traces: unknown[] }>(viewer, '/api/v1/traces?lookback=1h&finding=error-root-cause')
    expect(errors.body.traces).toEqual([])

    const bad = await getJson<{ error: string }>(viewer, '/api/v1/traces?finding=slow')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/finding: expected one of n-plus-one, sequential-calls/)

    const findings = await getJson<{
      traceId: string
      findings: { type: string; count?: number; spanIds: string[] }[]
    }>(viewer, `/api/v1/traces/${traceId(5001)}/findings`)
    expect(findings.status).toBe(200)
    expect(findings.body.traceId).toBe(traceId(5001))
    const nPlusOne = findings.body.findings.find((f) => f.type === 'n-plus-one')
    expect(nPlusOne).toMatchObject({ count: 5, concurrency: 'sequential' })
    expect(nPlusOne!.spanIds).toHaveLength(5)
    expect((await getJson(viewer, `/api/v1/traces/${traceId(9999)}/findings`)).status).toBe(404)
  })

  it('re-analyses a trace when late spans arrive', async () => {
    const viewer = await viewerWith({ store: kind === 'memory' ? 'memory' : join(dir, 'late.db') })
    const spans = nPlusOneTrace(3)
    await viewer.store.add(spans.slice(0, 2))
    const before = await getJson<{ traces: unknown[] }>(viewer, '/api/v1/traces?lookback=1h&finding=n-plus-one')
    expect(before.body.traces).toEqual([])
    await viewer.store.add(spans.slice(2))
    const after = await getJson<{ traces: unknown[] }>(viewer, '/api/v1/traces?lookback=1h&finding=n-plus-one')
    expect(after.body.traces).toHaveLength(1)
  })
})

describe('dependency edges', () => {
  it('carry call and error counts, error rate and p95 duration', async () => {
    const viewer = await viewerWith()
    const spans: StoredSpan[] = []
    for (let i = 0; i < 20; i++) {
      const id = traceId(7000 + i)
      const gw = makeSpan({ traceId: id, service: 'gateway', startUs: now - 30e6 + i * 1000, durationUs: 50_000 })
      spans.push(
        gw,
        makeSpan({
          traceId: id,
          service: 'orders',
          parentSpanId: gw.spanId,
          startUs: gw.startUs + 10,
          durationUs: (i + 1) * 1000,
          error: i < 4,
        }),
      )
    }
    await viewer.store.add(spans)
    const deps = await getJson<{ edges: Record<string, unknown>[] }>(viewer, '/api/v1/dependencies?lookback=1h')
    // nearest-rank p95 of 1..20 ms is the 19th
    expect(deps.body.edges).toEqual([
      {
        parent: 'gateway',
        child: 'orders',
        childKind: 'service',
        callCount: 20,
        errorCount: 4,
        errorRate: 0.2,
        p95Us: 19_000,
      },
    ])
  })
})

describe('configured SLOs', () => {
  it('are listed in the status, parsed as the UI parses them', async () => {
    const viewer = await viewerWith({
      slos: [
        'GET /orders/:id=200ms@99%',
        'orders:SELECT customers=1.5s@99.9',
        { operation: 'POST /checkout', thresholdUs: 300_000, target: 0.95 },
      ],
    })
    const status = await getJson<{ slos: unknown[] }>(viewer, '/api/v1/status')
    expect(status.body.slos).toEqual([
      { operation: 'GET /orders/:id', thresholdUs: 200_000, target: 0.99 },
      { service: 'orders', operation: 'SELECT customers', thresholdUs: 1_500_000, target: 0.999 },
      { operation: 'POST /checkout', thresholdUs: 300_000, target: 0.95 },
    ])
    expect((await getJson<{ slos: unknown[] }>(await viewerWith(), '/api/v1/status')).body.slos).toEqual([])
  })

  it('reject a malformed objective with TL_ERR_VIEWER_OPTION', async () => {
    const error = await startTestViewer({ slos: ['GET /x=fast'] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ViewerError)
    expect(error).toMatchObject({ code: 'TL_ERR_VIEWER_OPTION', message: expect.stringContaining('"GET /x=fast"') })
  })
})

/** GET over node:http, so the raw (possibly gzipped) body and headers are visible. */
function rawGet(viewer: Viewer, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    request({ host: '127.0.0.1', port: viewer.ports.ui, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
      .on('error', reject)
      .end()
  })
}

describe('large JSON answers', () => {
  it('are gzipped when the client accepts gzip, plain otherwise', async () => {
    const viewer = await viewerWith()
    const id = traceId(8000)
    const root = makeSpan({ traceId: id, service: 'big', startUs: now - 10e6, durationUs: 1e6 })
    const spans = [root]
    for (let i = 0; i < 1000; i++)
      spans.push(
        makeSpan({
          traceId: id,
          service: 'big',
          parentSpanId: root.spanId,
          startUs: root.startUs + i,
          attributes: { i },
        }),
      )
    await viewer.store.add(spans)

    const plain = await rawGet(viewer, `/api/v1/traces/${id}`, {})
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.length).toBeGreaterThan(64 * 1024)
    const zipped = await rawGet(viewer, `/api/v1/traces/${id}`, { 'accept-encoding': 'br, gzip, deflate' })
    expect(zipped.status).toBe(200)
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toBe('accept-encoding')
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4)
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true)
    const refused = await rawGet(viewer, `/api/v1/traces/${id}`, { 'accept-encoding': 'gzip;q=0' })
    expect(refused.headers['content-encoding']).toBeUndefined()
    // small answers stay plain
    const small = await rawGet(viewer, '/api/v1/services', { 'accept-encoding': 'gzip' })
    expect(small.headers['content-encoding']).toBeUndefined()
    // fetch() decodes it transparently
    expect((await getJson<{ spans: unknown[] }>(viewer, `/api/v1/traces/${id}`)).body.spans).toHaveLength(1001)
  })
})

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(packageDir, 'dist', 'cli.mjs')

/** Starts the built CLI on free ports; resolves with the UI address once it listens. */
function startCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    [cli, '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--zipkin-port', '0', '--ui-port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  )
  const ui = new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /UI and query API\s+(\S+)/.exec(out)
      if (match && out.includes('store')) resolve(match[1]!)
    })
    child.on('exit', (code) => reject(new Error(`threadline exited with ${code}: ${out}`)))
  })
  return { child, ui }
}

const built = existsSync(join(packageDir, 'dist', 'ui', 'index.html'))

describe('the built package', () => {
  it.runIf(built)('serves the web UI from dist/ui and takes repeated --slo flags over THREADLINE_SLO', async () => {
    const { child, ui } = startCli(['--slo', 'GET /a=100ms@99%', '--slo', 'b:GET /b=2s@90%'], {
      THREADLINE_SLO: 'ignored=1ms@50%',
    })
    try {
      const base = await ui
      const page = await (await fetch(base)).text()
      expect(page).toContain('<title>Threadline</title>')
      expect(page).not.toContain('The web UI is not built')
      const status = (await (await fetch(`${base}api/v1/status`)).json()) as { slos: unknown[] }
      expect(status.slos).toEqual([
        { operation: 'GET /a', thresholdUs: 100_000, target: 0.99 },
        { service: 'b', operation: 'GET /b', thresholdUs: 2_000_000, target: 0.9 },
      ])
    } finally {
      child.kill('SIGKILL')
    }
  })

  it.runIf(built)('reads comma-separated objectives from THREADLINE_SLO', async () => {
    const { child, ui } = startCli([], { THREADLINE_SLO: 'GET /a=100ms@99%, POST /b=1s@95%' })
    try {
      const status = (await (await fetch(`${await ui}api/v1/status`)).json()) as { slos: unknown[] }
      expect(status.slos).toEqual([
        { operation: 'GET /a', thresholdUs: 100_000, target: 0.99 },
        { operation: 'POST /b', thresholdUs: 1_000_000, target: 0.95 },
      ])
    } finally {
      child.kill('SIGKILL')
    }
  })
})
