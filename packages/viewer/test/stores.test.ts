/** The same contract for both stores: de-duplication, late spans, search, dependencies, statistics, retention. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { redStatistics } from '../src/analysis/red.js'
import { MemoryStore, SqliteStore, type Store } from '../src/index.js'
import { makeSpan, traceId } from './spans.js'

const dir = mkdtempSync(join(tmpdir(), 'threadline-stores-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: join(dir, `store-${files++}.db`) })],
]

const T0 = 1_700_000_000_000_000

describe.each(stores)('%s store', (_name, open) => {
  it('de-duplicates a span sent twice (an exporter retry)', async () => {
    const store = open()
    const span = makeSpan({ traceId: traceId(1) })
    expect(await store.add([span])).toBe(1)
    expect(await store.add([{ ...span }])).toBe(0)
    expect(store.trace(traceId(1))).toHaveLength(1)
    expect(store.stats()).toMatchObject({ spans: 1, traces: 1, duplicateSpans: 1 })
    await store.close()
  })

  it('joins late and out-of-order spans to their trace; the root is found once it arrives', async () => {
    const store = open()
    const id = traceId(2)
    const root = makeSpan({ traceId: id, name: 'GET /', startUs: T0, durationUs: 5000 })
    const child = makeSpan({ traceId: id, parentSpanId: root.spanId, name: 'child', startUs: T0 + 100, service: 'b' })
    const grandchild = makeSpan({
      traceId: id,
      parentSpanId: child.spanId,
      name: 'grandchild',
      startUs: T0 + 200,
      service: 'b',
    })
    await store.add([grandchild])
    await store.add([child])
    expect(store.search({ limit: 10 })[0]).toMatchObject({ traceId: id, rootName: 'child', spanCount: 2 })
    await store.add([root])
    expect(store.search({ limit: 10 })[0]).toMatchObject({
      traceId: id,
      rootName: 'GET /',
      rootService: 'svc',
      spanCount: 3,
      startUs: T0,
      durationUs: 5000,
      services: [
        { name: 'b', spanCount: 2 },
        { name: 'svc', spanCount: 1 },
      ],
    })
    expect(store.trace(id)!.map((s) => s.name)).toEqual(['GET /', 'child', 'grandchild'])
    await store.close()
  })

  it('searches by service, operation, kind, attributes, duration, errors, time range and limit', async () => {
    const store = open()
    const spans = []
    for (let i = 0; i < 20; i++) {
      spans.push(
        makeSpan({
          traceId: traceId(100 + i),
          service: i % 2 ? 'orders' : 'gateway',
          name: i % 4 < 2 ? 'GET /orders/:id' : 'POST /orders',
          kind: i % 3 ? 'server' : 'client',
          startUs: T0 + i * 1_000_000,
          durationUs: (i + 1) * 1000,
          error: i % 5 === 0,
          status: { code: i % 5 === 0 ? 'ERROR' : 'UNSET' },
          attributes: { 'http.response.status_code': i % 5 === 0 ? 500 : 200, 'user.tier': i < 10 ? 'gold' : 'free' },
          resource: { 'service.name': i % 2 ? 'orders' : 'gateway', 'deployment.environment.name': 'test' },
        }),
      )
    }
    await store.add(spans)
    const ids = (q: Parameters<Store['search']>[0]) => store.search(q).map((t) => Number.parseInt(t.traceId, 16) - 100)
    expect(ids({ limit: 3 })).toEqual([19, 18, 17])
    expect(ids({ service: 'orders', limit: 100 })).toEqual([19, 17, 15, 13, 11, 9, 7, 5, 3, 1])
    expect(ids({ service: 'orders', operation: 'POST /orders', limit: 100 })).toEqual([19, 15, 11, 7, 3])
    expect(ids({ spanKind: 'client', limit: 100 })).toEqual([18, 15, 12, 9, 6, 3, 0])
    expect(ids({ attributes: { 'http.response.status_code': '500' }, limit: 100 })).toEqual([15, 10, 5, 0])
    expect(ids({ attributes: { 'user.tier': 'gold', 'http.response.status_code': '200' }, limit: 100 })).toEqual([
      9, 8, 7, 6, 4, 3, 2, 1,
    ])
    expect(ids({ attributes: { 'deployment.environment.name': 'test' }, limit: 2 })).toEqual([19, 18])
    expect(ids({ attributes: { 'user.tier': 'platinum' }, limit: 100 })).toEqual([])
    expect(ids({ minDurationUs: 15_000, maxDurationUs: 17_000, limit: 100 })).toEqual([16, 15, 14])
    expect(ids({ errorsOnly: true, limit: 100 })).toEqual([15, 10, 5, 0])
    expect(ids({ startUs: T0 + 3_000_000, endUs: T0 + 5_000_000, limit: 100 })).toEqual([5, 4, 3])
    expect(store.services()).toEqual(['gateway', 'orders'])
    expect(store.operations('orders')).toEqual([
      { name: 'GET /orders/:id', spanKind: 'client' },
      { name: 'GET /orders/:id', spanKind: 'server' },
      { name: 'POST /orders', spanKind: 'client' },
      { name: 'POST /orders', spanKind: 'server' },
    ])
    expect(store.operations('orders', 'client')).toHaveLength(2)
    expect(store.operations('nobody')).toEqual([])
    await store.close()
  })

  it('returns the newest traces by start time, whatever order they arrived in', async () => {
    const store = open()
    const order = [5, 1, 9, 3, 7, 0, 8, 2, 6, 4]
    for (const i of order) await store.add([makeSpan({ traceId: traceId(800 + i), startUs: T0 + i * 1_500_000 })])
    // a late span moves trace 0's start before every other trace
    await store.add([makeSpan({ traceId: traceId(800), startUs: T0 - 5_000_000 })])
    const ids = (limit: number, extra = {}) =>
      store.search({ limit, ...extra }).map((t) => Number.parseInt(t.traceId, 16) - 800)
    expect(ids(3)).toEqual([9, 8, 7])
    expect(ids(10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    expect(ids(2, { startUs: T0 + 2_000_000, endUs: T0 + 6_000_000 })).toEqual([4, 3])
    expect(store.search({ limit: 1, endUs: T0 })[0]).toMatchObject({ traceId: traceId(800), startUs: T0 - 5_000_000 })
    await store.close()
  })

  it('counts dependency edges between services and to databases, with errors', async () => {
    const store = open()
    const spans = []
    for (let i = 0; i < 3; i++) {
      const id = traceId(200 + i)
      const gw = makeSpan({ traceId: id, service: 'gateway', startUs: T0 + i })
      const call = makeSpan({
        traceId: id,
        service: 'gateway',
        kind: 'client',
        parentSpanId: gw.spanId,
        startUs: T0 + i,
      })
      const orders = makeSpan({
        traceId: id,
        service: 'orders',
        parentSpanId: call.spanId,
        error: i === 2,
        startUs: T0 + i,
        durationUs: (i + 1) * 1000,
      })
      const sql = makeSpan({
        traceId: id,
        service: 'orders',
        kind: 'client',
        parentSpanId: orders.spanId,
        dbSystem: 'postgresql',
        attributes: { 'db.system.name': 'postgresql' },
        error: i === 2,
        startUs: T0 + i,
        durationUs: (i + 1) * 100,
      })
      spans.push(gw, call, orders, sql)
    }
    await store.add(spans)
    expect(store.dependencies(T0 - 1, T0 + 10)).toEqual([
      // p95 (nearest rank) of 3 calls is the slowest
      {
        parent: 'gateway',
        child: 'orders',
        childKind: 'service',
        callCount: 3,
        errorCount: 1,
        errorRate: 1 / 3,
        p95Us: 3000,
      },
      {
        parent: 'orders',
        child: 'postgresql',
        childKind: 'database',
        callCount: 3,
        errorCount: 1,
        errorRate: 1 / 3,
        p95Us: 300,
      },
    ])
    expect(store.dependencies(T0 + 100, T0 + 200)).toEqual([])
    await store.close()
  })

  it('gives the rows for RED statistics', async () => {
    const store = open()
    const spans = []
    for (let i = 0; i < 100; i++) {
      spans.push(
        makeSpan({
          traceId: traceId(300 + i),
          service: 'orders',
          name: 'GET /orders/:id',
          startUs: T0 + i * 600_000,
          durationUs: (i + 1) * 10,
          error: i >= 90,
        }),
      )
    }
    await store.add(spans)
    const rows = store.rows({ service: 'orders', startUs: T0, endUs: T0 + 60_000_000 })
    expect(rows).toHaveLength(100)
    const [red] = redStatistics(rows, T0, T0 + 60_000_000, 2)
    expect(red!.total).toMatchObject({ count: 100, errorCount: 10, errorRate: 0.1, p50: 500, p95: 950, p99: 990 })
    expect(red!.total.rate).toBeCloseTo(100 / 60)
    expect(red!.buckets.map((b) => b.count)).toEqual([50, 50])
    expect(red!.buckets[1]).toMatchObject({ errorCount: 10, p50: 750 })
    await store.close()
  })

  it('prunes whole traces older than the retention cutoff', async () => {
    const store = open()
    const old = makeSpan({ traceId: traceId(400), startUs: T0, durationUs: 10 })
    const oldChild = makeSpan({ traceId: traceId(400), parentSpanId: old.spanId, startUs: T0 + 1, durationUs: 5 })
    const fresh = makeSpan({ traceId: traceId(401), startUs: T0 + 1_000_000, service: 'fresh' })
    await store.add([old, oldChild, fresh])
    expect(store.prune(T0 + 500_000)).toBe(2)
    expect(store.trace(traceId(400))).toBeUndefined()
    expect(store.trace(traceId(401))).toHaveLength(1)
    expect(store.services()).toEqual(['fresh'])
    expect(store.stats()).toMatchObject({ spans: 1, traces: 1, evictedSpans: 2 })
    await store.close()
  })
})

describe('memory store bound', () => {
  it('evicts whole oldest traces past --max-spans and forgets their operations', async () => {
    const store = new MemoryStore({ maxSpans: 10 })
    for (let t = 0; t < 5; t++) {
      const spans = []
      for (let s = 0; s < 3; s++) spans.push(makeSpan({ traceId: traceId(500 + t), name: `op-${t}` }))
      await store.add(spans)
    }
    // 15 spans offered, bound 10: the two oldest traces went, whole
    expect(store.stats()).toMatchObject({ spans: 9, traces: 3, evictedSpans: 6 })
    expect(store.trace(traceId(500))).toBeUndefined()
    expect(store.trace(traceId(501))).toBeUndefined()
    expect(store.trace(traceId(502))).toHaveLength(3)
    expect(store.operations('svc').map((o) => o.name)).toEqual(['op-2', 'op-3', 'op-4'])
  })
})

describe('sqlite store', () => {
  it('keeps everything across a restart (close and reopen the file)', async () => {
    const path = join(dir, 'restart.db')
    const first = new SqliteStore({ path })
    const root = makeSpan({ traceId: traceId(600), name: 'root', attributes: { 'a.b': [1, 'x'] } })
    const child = makeSpan({
      traceId: traceId(600),
      parentSpanId: root.spanId,
      name: 'child',
      events: [{ name: 'e', timeUs: T0, attributes: { k: true } }],
      links: [{ traceId: traceId(601), spanId: 'ab'.repeat(8), attributes: {} }],
    })
    await first.add([root, child])
    await first.close()
    const second = new SqliteStore({ path })
    expect(second.stats()).toMatchObject({ spans: 2, traces: 1 })
    expect(second.trace(traceId(600))).toEqual([root, child])
    expect(await second.add([child])).toBe(0)
    await second.close()
  })

  it('retention also forgets the resources and attribute keys only pruned spans used, and they come back', async () => {
    const path = join(dir, 'prune-rows.db')
    const store = new SqliteStore({ path })
    const oldResource = { 'service.name': 'svc', 'process.pid': 101 }
    const freshResource = { 'service.name': 'svc', 'process.pid': 202 }
    await store.add([
      makeSpan({ traceId: traceId(650), startUs: T0, resource: oldResource, attributes: { 'old.key': 'a' } }),
      makeSpan({ traceId: traceId(651), startUs: T0 + 1e6, resource: freshResource, attributes: { 'fresh.key': 'b' } }),
    ])
    expect(store.prune(T0 + 500_000)).toBe(1)
    const { DatabaseSync } = await import('node:sqlite')
    const rows = (sql: string) => {
      const db = new DatabaseSync(path, { readOnly: true })
      try {
        return db
          .prepare(sql)
          .all()
          .map((r) => Object.values(r)[0])
      } finally {
        db.close()
      }
    }
    expect(rows('SELECT json FROM resources')).toEqual([JSON.stringify(freshResource)])
    // resource attributes are indexed too
    expect(rows('SELECT key FROM attribute_keys ORDER BY key')).toEqual(['fresh.key', 'process.pid', 'service.name'])
    // the process that used the old resource and key sends again: stored, found, readable
    const again = makeSpan({
      traceId: traceId(652),
      startUs: T0 + 2e6,
      resource: oldResource,
      attributes: { 'old.key': 'c' },
    })
    await store.add([again])
    expect(store.trace(traceId(652))).toEqual([again])
    expect(store.search({ limit: 10, attributes: { 'old.key': 'c' } }).map((t) => t.traceId)).toEqual([traceId(652)])
    await store.close()
  })

  it('a write that fails and rolls back leaves no cached id of a row it took with it', async () => {
    const store = new SqliteStore({ path: join(dir, 'rollback.db') })
    const resource = { 'service.name': 'svc', 'process.pid': 303 }
    // a span that cannot be written (a value SQLite cannot bind) after its resource row was inserted
    const refused = { ...makeSpan({ traceId: traceId(660), resource }), service: undefined as unknown as string }
    await expect(store.add([refused])).rejects.toThrow(/cannot be bound/)
    const next = makeSpan({ traceId: traceId(661), resource, attributes: { 'k.new': 'v' } })
    expect(await store.add([next])).toBe(1)
    expect(store.trace(traceId(661))).toEqual([next])
    await store.close()
  })

  it('refuses a file that is not a SQLite database, with TL_ERR_VIEWER_STORE', async () => {
    const { writeFileSync } = await import('node:fs')
    const path = join(dir, 'not-a-db.db')
    writeFileSync(path, 'hello, this is text and not a database file at all'.repeat(100))
    expect(() => new SqliteStore({ path })).toThrow(expect.objectContaining({ code: 'TL_ERR_VIEWER_STORE' }))
  })
})

describe('--retention', () => {
  it('drops traces older than the retention when the viewer starts on an existing file', async () => {
    const { startViewer } = await import('../src/index.js')
    const path = join(dir, 'retention.db')
    const store = new SqliteStore({ path })
    const nowUs = Date.now() * 1000
    await store.add([
      makeSpan({ traceId: traceId(700), startUs: nowUs - 3 * 3600e6, service: 'old' }),
      makeSpan({ traceId: traceId(701), startUs: nowUs - 60e6, service: 'recent' }),
    ])
    await store.close()
    const viewer = await startViewer({
      store: path,
      retention: '2h',
      otlpHttpPort: 0,
      otlpGrpcPort: 0,
      zipkinPort: 0,
      uiPort: 0,
    })
    try {
      expect(viewer.store.services()).toEqual(['recent'])
      expect(viewer.status()).toMatchObject({ retentionMs: 2 * 3600e3, spans: 1 })
    } finally {
      await viewer.close()
    }
  })
})
