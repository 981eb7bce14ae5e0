// Viewer (@threadline/viewer, built dist). (1) Ingest throughput: a separate sender process
// encodes OTLP/protobuf batches of 512 spans with Threadline's encoder and POSTs them
// (4 in flight) to the viewer's OTLP/HTTP port; spans/s into the memory and the SQLite store.
// The viewer's own work is single-threaded (one core). (2) Query latency over HTTP with the
// store full (default 1M spans; VIEWER_BENCH_SPANS to change): search with several filters,
// trace by id, dependencies, RED statistics; median and p95 of repeated calls. (3) Memory per
// 100k spans in the memory store (heap delta after GC).
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BATCH = 512
const SPANS = Number(process.env.VIEWER_BENCH_SPANS ?? 1_000_000)
const SQLITE_SPANS = Number(process.env.VIEWER_BENCH_SQLITE_SPANS ?? SPANS)
const IN_FLIGHT = 4

if (process.argv[2] === '--sender') {
  await sender().catch((error) => {
    console.error('sender failed', error)
    process.exit(1)
  })
} else await main()

// ---------------------------------------------------------------- sender (child process)
async function sender() {
  // listen before the first await: a message sent before a listener exists is lost
  const order = new Promise((resolve) => process.once('message', resolve))
  const { encodeTraceRequestProto } = await import('../packages/core/dist/otlp.mjs')
  const { url, total } = await order
  const resources = ['gateway', 'orders', 'catalog'].map((name) => ({
    attributes: Object.freeze({ 'service.name': name, 'service.version': '1.4.2', 'host.name': 'bench-host' }),
  }))
  const scope = { name: '@threadline/bench', version: '0.1.0' }
  const origin = performance.timeOrigin
  const nowMs = Date.now()
  const pool = { buf: Buffer.alloc(0), at: 0 }
  const hex = (bytes) => {
    if (pool.at + bytes > pool.buf.length) {
      pool.buf = randomBytes(64 * 1024)
      pool.at = 0
    }
    pool.at += bytes
    return pool.buf.toString('hex', pool.at - bytes, pool.at)
  }
  const status = { code: 0 }
  const errorStatus = { code: 2, message: 'boom' }
  let produced = 0
  // One request = 8 spans across 3 services; start times spread over the last hour.
  const makeBatch = () => {
    const spans = []
    while (spans.length < BATCH) {
      const traceId = hex(16)
      const t = nowMs - 3_600_000 + (produced / total) * 3_600_000
      const err = produced % 50 === 0
      const user = `u-${produced % 10_000}`
      const ids = Array.from({ length: 8 }, () => hex(8))
      const make = (i, parent, name, kind, res, offset, duration, attributes, isError) => {
        const ctx = { traceId, spanId: ids[i], traceFlags: 1 }
        spans.push({
          name,
          kind,
          spanContext: () => ctx,
          parentSpanContext: parent === undefined ? undefined : { traceId, spanId: ids[parent], traceFlags: 1 },
          startTime: t + offset - origin,
          endTime: t + offset + duration - origin,
          attributes,
          events: [],
          links: [],
          status: isError ? errorStatus : status,
          ended: true,
          resource: resources[res],
          scope,
          droppedAttributesCount: 0,
          droppedEventsCount: 0,
          droppedLinksCount: 0,
        })
      }
      const d = 20 + (produced % 97)
      make(
        0,
        undefined,
        'GET /orders/:id',
        1,
        0,
        0,
        d + 10,
        {
          'http.request.method': 'GET',
          'http.route': '/orders/:id',
          'http.response.status_code': err ? 500 : 200,
          'user.id': user,
        },
        err,
      )
      make(
        1,
        0,
        'GET',
        2,
        0,
        1,
        d + 5,
        { 'http.request.method': 'GET', 'server.address': 'orders', 'http.response.status_code': err ? 500 : 200 },
        err,
      )
      make(
        2,
        1,
        'GET /orders/:id',
        1,
        1,
        2,
        d,
        { 'http.request.method': 'GET', 'http.route': '/orders/:id', 'http.response.status_code': err ? 500 : 200 },
        err,
      )
      make(
        3,
        2,
        'SELECT orders',
        2,
        1,
        3,
        2,
        {
          'db.system.name': 'postgresql',
          'db.query.text': 'SELECT * FROM orders WHERE id = $1',
          'db.query.summary': 'SELECT orders',
        },
        err,
      )
      make(4, 2, 'POST', 2, 1, 6, d - 8, { 'http.request.method': 'POST', 'server.address': 'catalog' }, false)
      make(
        5,
        4,
        'POST /graphql',
        1,
        2,
        7,
        d - 10,
        { 'http.request.method': 'POST', 'http.route': '/graphql', 'graphql.operation.name': 'Prices' },
        false,
      )
      make(
        6,
        5,
        'SELECT items',
        2,
        2,
        8,
        3,
        { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT items' },
        false,
      )
      make(
        7,
        5,
        'SELECT prices',
        2,
        2,
        12,
        3,
        { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT prices' },
        false,
      )
      produced += 8
    }
    return Buffer.from(encodeTraceRequestProto(spans))
  }
  const batches = Math.ceil(total / BATCH)
  let next = 0
  let sent = 0
  const started = performance.now()
  const worker = async () => {
    while (next < batches) {
      next++
      const body = makeBatch()
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`viewer answered ${response.status}`)
      sent += BATCH
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  process.send({ spans: sent, ms: performance.now() - started }, () => process.disconnect())
}

// ---------------------------------------------------------------- viewer side (this process)
async function main() {
  const { startViewer } = await import('../packages/viewer/dist/index.mjs')
  const here = fileURLToPath(import.meta.url)
  // also the viewer process's CPU time: spans per CPU-second is the one-core figure, and holds on a busy machine
  const ingest = (viewer, total) =>
    new Promise((resolve, reject) => {
      const child = fork(here, ['--sender'], { stdio: 'inherit' })
      const cpu = process.cpuUsage()
      child.once('message', (result) => {
        const used = process.cpuUsage(cpu)
        resolve({ ...result, cpuMs: (used.user + used.system) / 1000 })
      })
      child.once('exit', (code) => reject(new Error(`sender exited (${code}) without a result`)))
      child.send({ url: viewer.urls.otlpHttp, total })
    })
  const ports = { otlpHttpPort: 0, otlpGrpcPort: 0, zipkinPort: 0, uiPort: 0 }
  const rows = []

  // memory
  global.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const memory = await startViewer({ ...ports, maxSpans: SPANS + BATCH })
  const m = await ingest(memory, SPANS)
  global.gc?.()
  const heapAfter = process.memoryUsage().heapUsed
  const stored = memory.store.stats().spans
  rows.push([
    'ingest → memory',
    `${fmt(m.spans / (m.ms / 1000))} spans/s`,
    `${fmt(m.spans)} spans in ${(m.ms / 1000).toFixed(1)} s; ${fmt(m.spans / (m.cpuMs / 1000))} spans per viewer CPU-second`,
  ])
  rows.push([
    'memory per 100k spans',
    `${((heapAfter - heapBefore) / 1024 / 1024 / (stored / 100_000)).toFixed(1)} MiB`,
    `heap delta after GC, ${fmt(stored)} spans stored`,
  ])
  const memoryQueries = await queries(memory)
  await memory.close()

  // sqlite
  const dir = mkdtempSync(join(tmpdir(), 'threadline-bench-'))
  const path = join(dir, 'bench.db')
  const sqlite = await startViewer({ ...ports, store: path })
  const s = await ingest(sqlite, SQLITE_SPANS)
  rows.push([
    'ingest → SQLite',
    `${fmt(s.spans / (s.ms / 1000))} spans/s`,
    `${fmt(s.spans)} spans in ${(s.ms / 1000).toFixed(1)} s; ${fmt(s.spans / (s.cpuMs / 1000))} spans per viewer CPU-second; ${(statSync(path).size / 1024 / 1024).toFixed(0)} MiB file`,
  ])
  const sqliteQueries = await queries(sqlite)
  await sqlite.close()
  rmSync(dir, { recursive: true, force: true })

  const { cpus, loadavg } = await import('node:os')
  console.log(
    `\nViewer, Node ${process.version}, OTLP/protobuf batches of ${BATCH} spans, ${IN_FLIGHT} requests in flight from another process (${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`,
  )
  table(rows)
  console.log(
    `\nQuery latency over HTTP with ${fmt(SPANS)} spans (memory) / ${fmt(SQLITE_SPANS)} spans (SQLite): median / p95 ms`,
  )
  table(
    memoryQueries.map(([name, med, p95], i) => [
      name,
      `${med} / ${p95}`,
      `${sqliteQueries[i][1]} / ${sqliteQueries[i][2]}`,
    ]),
    ['query', 'memory', 'SQLite'],
  )
}

async function queries(viewer) {
  const base = `http://127.0.0.1:${viewer.ports.ui}`
  const get = async (path) => {
    const t = performance.now()
    const response = await fetch(base + path)
    const body = await response.json()
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`)
    return [performance.now() - t, body]
  }
  const cases = [
    ['search, no filter, limit 20', '/api/v1/traces?limit=20'],
    ['search service', '/api/v1/traces?service=catalog&limit=20'],
    [
      'search service + operation',
      `/api/v1/traces?service=orders&operation=${encodeURIComponent('SELECT orders')}&limit=20`,
    ],
    // a trace starts every 8 spans: 1 in 25 traces has status 500, 1 in 1,250 a given user (ids step by 8)
    ['search attribute (4% match)', '/api/v1/traces?service=gateway&attr=http.response.status_code=500&limit=20'],
    ['search attribute (0.08% match)', '/api/v1/traces?service=gateway&attr=user.id=u-4240&limit=20'],
    ['search minDuration 110ms', '/api/v1/traces?service=gateway&minDuration=110ms&limit=20'],
    ['search errors only', '/api/v1/traces?errors=true&limit=20'],
    [
      'search time range (5 min)',
      `/api/v1/traces?start=${Date.now() - 1_800_000}&end=${Date.now() - 1_500_000}&limit=20`,
    ],
    ['Jaeger /api/traces (20 full traces)', '/api/traces?service=orders&limit=20&lookback=2h'],
  ]
  const out = []
  const [, sample] = await get('/api/v1/traces?limit=200')
  const ids = sample.traces.map((t) => t.traceId)
  for (const [name, path] of cases) {
    out.push([name, ...(await repeat(() => get(path)))])
  }
  let i = 0
  out.push(['trace by id (8 spans)', ...(await repeat(() => get(`/api/v1/traces/${ids[i++ % ids.length]}`)))])
  out.push(['dependencies, last 15 min', ...(await repeat(() => get('/api/v1/dependencies?lookback=15m'), 5))])
  out.push([
    'RED per operation, 1 service, 15 min',
    ...(await repeat(() => get('/api/v1/red?service=orders&lookback=15m'), 5)),
  ])
  return out
}

async function repeat(fn, n = 25) {
  await fn()
  const times = []
  for (let i = 0; i < n; i++) times.push((await fn())[0])
  times.sort((a, b) => a - b)
  return [times[Math.floor(n / 2)].toFixed(1), times[Math.min(n - 1, Math.ceil(n * 0.95) - 1)].toFixed(1)]
}

function fmt(n) {
  return Math.round(n).toLocaleString('en')
}

function table(rows, header) {
  const all = header ? [header, ...rows] : rows
  const widths = all[0].map((_, c) => Math.max(...all.map((r) => String(r[c]).length)))
  for (const row of all) console.log(`  ${row.map((cell, c) => String(cell).padEnd(widths[c])).join('   ')}`)
}
