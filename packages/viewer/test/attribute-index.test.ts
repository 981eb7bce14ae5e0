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

describe('sqlite store attribute index', () => {
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
    expect(db.prepare("SELECT trace_id FROM attributes WHERE key = 'tenant'").all()).toEqual([
      expect.objectContaining({ trace_id: traceId(7) }),
    ])
    db.close()
  })

  it('migrates a schema 1 file: fills the index from its spans', async () => {
    const path = join(dir, 'v1.db')
    const first = new SqliteStore({ path })
    await first.add([
      makeSpan({ traceId: traceId(8), attributes: { tenant: 't-8', n: 3 } }),
      makeSpan({ traceId: traceId(9), attributes: { tenant: 't-9' } }),
    ])
    await first.close()
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(path)
    db.exec("DROP TABLE attributes; UPDATE meta SET value = '1' WHERE key = 'schema'")
    db.close()
    const second = new SqliteStore({ path })
    expect(ids(second, { attributes: { tenant: 't-8', n: '3' } })).toEqual([8])
    expect(ids(second, { attributes: { tenant: 't-9' } })).toEqual([9])
    await second.close()
    const check = new DatabaseSync(path)
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema'").get()).toEqual(
      expect.objectContaining({ value: '2' }),
    )
    check.close()
  })
})
