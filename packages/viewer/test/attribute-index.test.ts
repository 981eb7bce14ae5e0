/** The attribute index behind `key=value` search: same answers as the span scan, no stale entries. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryStore, SqliteStore, type Store, type TraceQuery } from '../src/index.js'
import { makeSpan, traceId } from './spans.js'

const dir = mkdtempSync(join(tmpdir(), 'threadline-attr-index-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: join(dir, `store-${files++}.db`) })],
]

const T0 = 1_700_000_000_000_000
const long = 'x'.repeat(300)

function ids(store: Store, query: Partial<TraceQuery>): number[] {
  return store.search({ limit: 1000, ...query }).map((s) => Number.parseInt(s.traceId, 16))
}

describe.each(stores)('%s store attribute index', (_name, open) => {
  it('answers rare and common values, every value type and resource attributes as the scan did', async () => {
    const store = open()
    const spans = []
    for (let i = 0; i < 300; i++) {
      const root = makeSpan({
        traceId: traceId(1000 + i),
        name: 'root',
        startUs: T0 + i * 1_000,
        attributes: {
          'user.id': `u-${i % 100}`,
          'http.response.status_code': i % 50 === 0 ? 500 : 200,
          ok: i % 3 === 0,
          nothing: null,
          ratio: i / 4,
          ...(i === 7 ? { 'long.value': long } : {}),
        },
        resource: { 'service.name': 'svc', 'host.name': i < 150 ? 'a' : 'b' },
      })
      spans.push(
        root,
        makeSpan({ traceId: traceId(1000 + i), parentSpanId: root.spanId, name: 'child', startUs: T0 + i * 1_000 + 1 }),
      )
    }
    await store.add(spans)
    expect(ids(store, { attributes: { 'user.id': 'u-42' } })).toEqual([1242, 1142, 1042])
    expect(ids(store, { attributes: { 'http.response.status_code': '500' } })).toEqual([
      1250, 1200, 1150, 1100, 1050, 1000,
    ])
    expect(ids(store, { attributes: { 'http.response.status_code': '500.0' } })).toEqual([])
    expect(ids(store, { attributes: { ratio: '2.25' } })).toEqual([1009])
    expect(ids(store, { attributes: { ok: 'true', 'user.id': 'u-3' } })).toEqual(
      [1203, 1103, 1003].filter((n) => (n - 1000) % 3 === 0),
    )
    expect(ids(store, { attributes: { ok: 'true' }, limit: 3 })).toEqual([1297, 1294, 1291])
    expect(ids(store, { attributes: { nothing: 'null' }, limit: 2 })).toEqual([1299, 1298])
    expect(ids(store, { attributes: { 'long.value': long } })).toEqual([1007])
    expect(ids(store, { attributes: { 'host.name': 'a' }, limit: 2 })).toEqual([1149, 1148])
    expect(ids(store, { attributes: { 'host.name': 'a', 'user.id': 'u-99' } })).toEqual([1099])
    expect(ids(store, { attributes: { 'user.id': 'u-missing' } })).toEqual([])
    // every criterion must hold for one span: the trace has u-42, but not on a span named child
    expect(ids(store, { attributes: { 'user.id': 'u-42' }, operation: 'child' })).toEqual([])
    expect(ids(store, { attributes: { 'user.id': 'u-42' }, operation: 'root', startUs: T0 + 100_000 })).toEqual([
      1242, 1142,
    ])
    await store.close()
  })

  it('forgets the attributes of pruned traces (no stale hits)', async () => {
    const store = open()
    await store.add([makeSpan({ traceId: traceId(1), startUs: T0, durationUs: 10, attributes: { order: 'o-1' } })])
    await store.add([makeSpan({ traceId: traceId(2), startUs: T0 + 2_000_000, attributes: { order: 'o-2' } })])
    expect(store.prune(T0 + 1_000_000)).toBe(1)
    expect(ids(store, { attributes: { order: 'o-1' } })).toEqual([])
    expect(ids(store, { attributes: { order: 'o-2' } })).toEqual([2])
    // the same trace id arriving again is indexed afresh
    await store.add([makeSpan({ traceId: traceId(1), startUs: T0 + 3_000_000, attributes: { order: 'o-3' } })])
    expect(ids(store, { attributes: { order: 'o-1' } })).toEqual([])
    expect(ids(store, { attributes: { order: 'o-3' } })).toEqual([1])
    await store.close()
  })
})

describe('memory store attribute index bound', () => {
  it('drops the entries of evicted traces, and never indexes long values', async () => {
    const store = new MemoryStore({ maxSpans: 10 })
    for (let t = 0; t < 20; t++) {
      await store.add([
        makeSpan({ traceId: traceId(t), startUs: T0 + t, attributes: { id: `r-${t}`, big: long } }),
        makeSpan({ traceId: traceId(t), startUs: T0 + t, attributes: { id: `r-${t}` } }),
      ])
    }
    expect(store.stats()).toMatchObject({ spans: 10, traces: 5 })
    expect(ids(store, { attributes: { id: 'r-3' } })).toEqual([])
    expect(ids(store, { attributes: { id: 'r-19' } })).toEqual([19])
    expect(ids(store, { attributes: { big: long }, limit: 2 })).toEqual([19, 18])
    // id × 5 live traces, plus service.name (resource) from makeSpan's resource
    const resourceKeys = Object.keys(makeSpan({ traceId: traceId(0) }).resource).length
    expect(store.attributeIndexSize()).toBe(5 + resourceKeys)
    store.prune(Number.POSITIVE_INFINITY)
    expect(store.attributeIndexSize()).toBe(0)
  })
})

describe.each(stores)('%s store attribute index, value types', (_name, open) => {
  it('matches a number, a string and a boolean that read alike', async () => {
    const store = open()
    await store.add([
      makeSpan({ traceId: traceId(1), startUs: T0 + 1, attributes: { code: 200, flag: true } }),
      makeSpan({ traceId: traceId(2), startUs: T0 + 2, attributes: { code: '200', flag: 'true' } }),
      makeSpan({ traceId: traceId(3), startUs: T0 + 3, attributes: { code: 200.5, flag: false } }),
    ])
    expect(ids(store, { attributes: { code: '200' } })).toEqual([2, 1])
    expect(ids(store, { attributes: { flag: 'true' } })).toEqual([2, 1])
    expect(ids(store, { attributes: { code: '200.5', flag: 'false' } })).toEqual([3])
    await store.close()
  })
})

describe.each(stores)('%s store attribute index, many traces per value', (_name, open) => {
  it('narrows a scan by a value thousands of traces share, and drives it from a rarer one', async () => {
    const store = open()
    const spans = []
    for (let i = 0; i < 2500; i++) {
      spans.push(
        makeSpan({
          traceId: traceId(i + 1),
          name: i % 2 ? 'odd' : 'even',
          startUs: T0 + i * 10,
          attributes: { batch: 'b', ...(i % 100 === 7 ? { rare: 'r' } : {}) },
        }),
      )
      // a trace of its own without the value: never returned for batch=b
      spans.push(makeSpan({ traceId: traceId(10_000 + i), startUs: T0 + i * 10 + 5, attributes: { batch: 'c' } }))
    }
    await store.add(spans)
    expect(ids(store, { attributes: { batch: 'b' }, limit: 3 })).toEqual([2500, 2499, 2498])
    expect(ids(store, { attributes: { batch: 'b' }, operation: 'even', limit: 3 })).toEqual([2499, 2497, 2495])
    expect(ids(store, { attributes: { batch: 'b', rare: 'r' }, limit: 3 })).toEqual([2408, 2308, 2208])
    expect(ids(store, { attributes: { rare: 'r', batch: 'c' } })).toEqual([])
    await store.close()
  })
})

describe('memory store attribute index postings', () => {
  it('stays exact while common values outlive many evictions', async () => {
    const store = new MemoryStore({ maxSpans: 100 })
    for (let t = 0; t < 1000; t++) {
      // two spans per trace, the common value on both (one posting entry per trace, not per span)
      const attributes = { tier: 'gold', order: `o-${t}`, ...(t % 10 === 0 ? { flagged: true } : {}) }
      await store.add([
        makeSpan({ traceId: traceId(t + 1), startUs: T0 + t, attributes }),
        makeSpan({ traceId: traceId(t + 1), startUs: T0 + t, attributes: { tier: 'gold' } }),
      ])
    }
    expect(store.stats()).toMatchObject({ spans: 100, traces: 50 })
    const live = Array.from({ length: 50 }, (_, i) => 1000 - i)
    expect(ids(store, { attributes: { tier: 'gold' } })).toEqual(live)
    expect(ids(store, { attributes: { tier: 'gold' }, limit: 3 })).toEqual(live.slice(0, 3))
    expect(ids(store, { attributes: { flagged: 'true' } })).toEqual(live.filter((n) => (n - 1) % 10 === 0))
    expect(ids(store, { attributes: { order: 'o-950' } })).toEqual([951])
    expect(ids(store, { attributes: { order: 'o-949' } })).toEqual([])
    // tier, 50 orders, flagged, service.name
    expect(store.attributeIndexSize()).toBe(1 + 50 + 1 + 1)
    store.prune(Number.POSITIVE_INFINITY)
    expect(store.attributeIndexSize()).toBe(0)
  })

  it('lists a trace once per value however its spans repeat and interleave the values', async () => {
    const store = new MemoryStore()
    // 60 distinct values on one trace (past the point where a trace tracks its postings in a Set)
    const spans = []
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 60; i++) {
        spans.push(makeSpan({ traceId: traceId(1), startUs: T0 + i, attributes: { [`k${i}`]: 'v', shared: 's' } }))
        spans.push(makeSpan({ traceId: traceId(2), startUs: T0 + 100 + i, attributes: { shared: 's' } }))
      }
    }
    await store.add(spans)
    expect(ids(store, { attributes: { k59: 'v' } })).toEqual([1])
    expect(ids(store, { attributes: { shared: 's' } })).toEqual([2, 1])
    expect(store.attributeIndexSize()).toBe(60 + 1 + 1)
    // were a trace listed twice in a posting, removing it would leave the posting behind
    store.prune(Number.POSITIVE_INFINITY)
    expect(store.attributeIndexSize()).toBe(0)
  })
})

describe('sqlite store attribute index', () => {
  it('prunes traces out of a posting list that also names live ones', async () => {
    const path = join(dir, 'postings.db')
    const store = new SqliteStore({ path })
    // one write: one posting row lists both traces
    await store.add([
      makeSpan({ traceId: traceId(1), startUs: T0, durationUs: 10, attributes: { tier: 'gold' } }),
      makeSpan({ traceId: traceId(2), startUs: T0 + 2_000_000, attributes: { tier: 'gold' } }),
      makeSpan({ traceId: traceId(3), startUs: T0 + 10, durationUs: 10, attributes: { tier: 'lead' } }),
    ])
    expect(store.prune(T0 + 1_000_000)).toBe(2)
    expect(ids(store, { attributes: { tier: 'gold' } })).toEqual([2])
    expect(ids(store, { attributes: { tier: 'lead' } })).toEqual([])
    await store.close()
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(path)
    expect(
      db
        .prepare(
          `SELECT p.value, p.count FROM attribute_postings p JOIN attribute_keys k ON k.id = p.key_id
           WHERE k.key = 'tier'`,
        )
        .all(),
    ).toEqual([expect.objectContaining({ value: 'gold', count: 1 })])
    db.close()
  })

  it('keeps the index across a restart', async () => {
    const path = join(dir, 'restart.db')
    const first = new SqliteStore({ path })
    await first.add([makeSpan({ traceId: traceId(7), attributes: { tenant: 't-7' } })])
    await first.close()
    const second = new SqliteStore({ path })
    expect(ids(second, { attributes: { tenant: 't-7' } })).toEqual([7])
    await second.close()
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(path)
    expect(
      db
        .prepare(
          `SELECT p.value, p.count FROM attribute_postings p JOIN attribute_keys k ON k.id = p.key_id
           WHERE k.key = 'tenant'`,
        )
        .all(),
    ).toEqual([expect.objectContaining({ value: 't-7', count: 1 })])
    db.close()
  })

  it.each(['1', '2'])('migrates a schema %s file: numbers its traces, rebuilds the index from its spans', async (v) => {
    const path = join(dir, `v${v}.db`)
    const first = new SqliteStore({ path })
    await first.add([
      makeSpan({ traceId: traceId(8), startUs: T0, attributes: { tenant: 't-8', n: 3 } }),
      makeSpan({ traceId: traceId(9), startUs: T0 + 10, attributes: { tenant: 't-9' } }),
      makeSpan({ traceId: traceId(9), startUs: T0 + 20, attributes: { tenant: 't-9', n: 4 } }),
    ])
    await first.close()
    downgrade(path, v)
    const second = new SqliteStore({ path })
    expect(second.stats()).toMatchObject({ spans: 3, traces: 2 })
    expect(ids(second, { attributes: { tenant: 't-8', n: '3' } })).toEqual([8])
    expect(ids(second, { attributes: { tenant: 't-9' } })).toEqual([9])
    expect(ids(second, { attributes: { n: '4' } })).toEqual([9])
    // a late span joins its migrated trace, and the index learns its attributes
    await second.add([makeSpan({ traceId: traceId(8), startUs: T0 + 30, attributes: { tenant: 't-8', late: true } })])
    expect(second.stats()).toMatchObject({ spans: 4, traces: 2 })
    expect(second.search({ limit: 10, attributes: { late: 'true' } })).toEqual([
      expect.objectContaining({ traceId: traceId(8), spanCount: 2 }),
    ])
    expect(second.prune(T0 + 1025)).toBe(2)
    expect(ids(second, { attributes: { tenant: 't-9' } })).toEqual([])
    await second.close()
    const { DatabaseSync } = await import('node:sqlite')
    const check = new DatabaseSync(path)
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema'").get()).toEqual(
      expect.objectContaining({ value: '3' }),
    )
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name IN ('attributes', 'traces_old')").all()).toEqual([])
    expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE 'traces_%'").get()).toEqual(
      expect.objectContaining({ n: 2 }),
    )
    check.close()
  })
})

/** Rewrites a schema 3 file into the layout of schema 1 (no attribute index) or 2 (index by hex trace id). */
function downgrade(path: string, version: string): void {
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite')
  const db = new DatabaseSync(path)
  db.exec(`
    CREATE TABLE old_traces (
      trace_id TEXT PRIMARY KEY, start_us REAL NOT NULL, end_us REAL NOT NULL,
      span_count INTEGER NOT NULL, error_count INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO old_traces SELECT trace_id, start_us, end_us, span_count, error_count FROM traces;
  `)
  if (version === '2') {
    db.exec(`
      CREATE TABLE attributes (
        key TEXT NOT NULL, value TEXT NOT NULL, trace_id TEXT NOT NULL, PRIMARY KEY (key, value, trace_id)
      ) WITHOUT ROWID;
      CREATE INDEX attributes_trace ON attributes (trace_id);
      INSERT INTO attributes SELECT 'tenant', 't-8', trace_id FROM traces;
    `)
  }
  db.exec(`
    DROP TABLE attribute_postings;
    DROP TABLE attribute_keys;
    DROP TABLE traces;
    ALTER TABLE old_traces RENAME TO traces;
    CREATE INDEX traces_start ON traces (start_us);
    CREATE INDEX traces_end ON traces (end_us);
  `)
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(version)
  db.close()
}
