/** `/api/v1/operations/durations`: span (not trace) durations of one operation, on both stores. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { StoredSpan, Viewer } from '../src/index.js'
import { makeSpan, traceId } from './spans.js'
import { getJson, startTestViewer } from './viewer.js'

const dir = mkdtempSync(join(tmpdir(), 'threadline-durations-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const now = Date.now() * 1000
const OP = 'GET /orders/:id'

/**
 * 12 traces: gateway `GET /orders/:id` (the root, 100 ms) calls orders `GET /orders/:id`, which
 * takes (i + 1) ms — so the orders operation's span durations are far from its traces' durations.
 * Orders also has a client span of the same name (a call to another service) and spans out of the window.
 */
function spans(): StoredSpan[] {
  const out: StoredSpan[] = []
  for (let i = 0; i < 12; i++) {
    const id = traceId(5000 + i)
    const gw = makeSpan({
      traceId: id,
      service: 'gateway',
      name: OP,
      startUs: now - 600e6 + i * 1e6,
      durationUs: 100_000,
    })
    const orders = makeSpan({
      traceId: id,
      service: 'orders',
      name: OP,
      parentSpanId: gw.spanId,
      startUs: gw.startUs + 1000,
      durationUs: (i + 1) * 1000,
    })
    const client = makeSpan({
      traceId: id,
      service: 'orders',
      name: OP,
      kind: 'client',
      parentSpanId: orders.spanId,
      startUs: orders.startUs + 10,
      durationUs: 500,
    })
    out.push(gw, orders, client)
  }
  // long before the window asked for below
  const old = traceId(6000)
  out.push(makeSpan({ traceId: old, service: 'orders', name: OP, startUs: now - 5 * 3600e6, durationUs: 900_000 }))
  return out
}

interface Durations {
  service: string
  operation: string
  spanKind?: string
  startUs: number
  endUs: number
  total: number
  durationsUs: number[]
  thresholdUs?: number
  breaches?: number
}

for (const store of ['memory', 'sqlite'] as const) {
  describe(`operation durations, ${store} store`, () => {
    let viewer: Viewer
    afterAll(() => viewer?.close())

    const get = (query: string) => getJson<Durations>(viewer, `/api/v1/operations/durations?${query}`)
    const q = (extra = '') =>
      `service=orders&operation=${encodeURIComponent(OP)}&start=${(now - 700e6) / 1000}&end=${now / 1000}${extra}`

    it('answers the spans of the operation, not the traces containing it', async () => {
      viewer = await startTestViewer({ store: store === 'memory' ? 'memory' : join(dir, 'durations.db') })
      await viewer.store.add(spans())

      const server = await get(q('&spanKind=server'))
      expect(server.status).toBe(200)
      expect(server.body).toMatchObject({ service: 'orders', operation: OP, spanKind: 'server', total: 12 })
      // newest first; every trace is 100 ms long, the spans 1–12 ms
      expect(server.body.durationsUs).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((ms) => ms * 1000))
      expect(server.body.durationsUs.every((d) => d < 100_000)).toBe(true)

      // without spanKind: the server and client spans of that name
      const all = await get(q())
      expect(all.body.total).toBe(24)
      expect([...all.body.durationsUs].sort((a, b) => a - b)).toEqual(
        [...Array(12).fill(500), ...Array.from({ length: 12 }, (_, i) => (i + 1) * 1000)].sort((a, b) => a - b),
      )

      // the root operation of the same name in gateway: the trace durations
      const gateway = await get(q().replace('service=orders', 'service=gateway'))
      expect(gateway.body.total).toBe(12)
      expect(new Set(gateway.body.durationsUs)).toEqual(new Set([100_000]))
    })

    it('counts breaches of a threshold over all matching spans, beyond the sample limit', async () => {
      const { body } = await get(q('&spanKind=server&threshold=8ms&limit=3'))
      expect(body.total).toBe(12)
      expect(body.durationsUs).toEqual([12_000, 11_000, 10_000])
      expect(body.thresholdUs).toBe(8000)
      expect(body.breaches).toBe(4) // 9, 10, 11, 12 ms; with trace durations it would be all 12
      const none = await get(q('&spanKind=server'))
      expect(none.body.breaches).toBeUndefined()
    })

    it('honours the time window and lookback', async () => {
      const wide = await get(`service=orders&operation=${encodeURIComponent(OP)}&spanKind=server&lookback=24h`)
      expect(wide.body.total).toBe(13)
      expect(wide.body.durationsUs.at(-1)).toBe(900_000)
      const narrow = await get(
        `service=orders&operation=${encodeURIComponent(OP)}&spanKind=server&start=${(now - 600e6) / 1000}&end=${(now - 598e6 + 2000) / 1000}`,
      )
      expect(narrow.body.durationsUs).toEqual([3000, 2000, 1000])
      const empty = await get(`service=nobody&operation=x`)
      expect(empty.body).toMatchObject({ total: 0, durationsUs: [] })
    })

    it('rejects missing or bad parameters with 400', async () => {
      expect((await get(`operation=${encodeURIComponent(OP)}`)).status).toBe(400)
      expect((await get('service=orders')).status).toBe(400)
      expect((await get(q('&threshold=fast'))).status).toBe(400)
      expect((await get(q('&spanKind=sideways'))).status).toBe(400)
      expect((await get(q('&limit=0'))).status).toBe(400)
    })
  })
}
