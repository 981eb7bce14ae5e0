import { activeSpan, type ReadableSpan, SpanStatusCode, trace } from '@threadline/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { endPool, exporter, isChildOf, onlyQuerySpan, querySpans, usePostgres } from './harness.js'

const { db } = usePostgres()

describe('pool.query', () => {
  let pool: pg.Pool
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: db().url, max: 2 })
  })
  afterAll(() => endPool(pool))

  it('promise: a query span with the pool, its wait and counts', async () => {
    await trace('request', () => pool.query('SELECT * FROM users WHERE id = $1', [1]))
    const span = onlyQuerySpan()
    expect(span.name).toBe('SELECT users')
    expect(isChildOf(span, exporter.getByName('request'))).toBe(true)
    expect(span.attributes).toMatchObject({
      'db.client.connection.pool.name': `${db().host}:${db().port}/${db().database}`,
      'db.client.connection.pool.max': 2,
      'db.response.returned_rows': 1,
    })
    expect(span.attributes['db.client.connection.pool.wait_ms']).toBeGreaterThanOrEqual(0)
    expect(span.attributes['db.client.connection.pool.in_use']).toBeTypeOf('number')
  })

  it('callback: the caller span is active in the callback', async () => {
    await trace('request', (span) => {
      return new Promise<void>((resolve, reject) => {
        pool.query('SELECT count(*) FROM items', (error, result) => {
          if (error) return reject(error)
          expect(result.rows[0]).toEqual({ count: '100' })
          expect(activeSpan()).toBe(span)
          resolve()
        })
      })
    })
    expect(onlyQuerySpan().name).toBe('SELECT items')
  })

  it('pool.connect() then client.query: the first query carries the checkout wait', async () => {
    await trace('request', async (span) => {
      const client = await pool.connect()
      expect(activeSpan()).toBe(span)
      try {
        await client.query('SELECT 1')
        await client.query('SELECT 2')
      } finally {
        client.release()
      }
    })
    const [first, second] = querySpans()
    expect(first?.attributes['db.client.connection.pool.wait_ms']).toBeTypeOf('number')
    expect(second?.attributes['db.client.connection.pool.wait_ms']).toBeUndefined()
    expect(second?.attributes['db.client.connection.pool.name']).toBe(
      first?.attributes['db.client.connection.pool.name'],
    )
  })

  it('a pool that cannot connect: the query span records the connection error', async () => {
    const dead = new pg.Pool({ host: '127.0.0.1', port: 1, database: 'nowhere', connectionTimeoutMillis: 2000 })
    await trace('request', () => expect(dead.query('SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' }))
    await endPool(dead)
    const span = onlyQuerySpan()
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes['error.type']).toBe('ECONNREFUSED')
    expect(span.attributes['db.namespace']).toBe('nowhere')
  })
})

describe('pool contention (max 1)', () => {
  let pool: pg.Pool
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: db().url, max: 1 })
    await pool.query('SELECT 1') // one warm connection, made outside any span
  })
  afterAll(() => endPool(pool))

  it('queued queries wait, say so, and stay in their own traces', async () => {
    // Three requests at once on a one-connection pool: the second and third queue behind the first.
    // pg-pool hands a queued request its connection from inside the releasing query's callback, so
    // without care the later queries would join the first request's trace.
    const requests = ['a', 'b', 'c'].map((name) =>
      trace(`request ${name}`, async (span) => {
        await pool.query('SELECT pg_sleep(0.02), $1::text AS who', [name])
        expect(activeSpan()).toBe(span)
        await pool.query('SELECT $1::text AS again', [name]) // a second query, after the wait
      }),
    )
    await Promise.all(requests)
    const spans = querySpans()
    expect(spans).toHaveLength(6)
    for (const name of ['a', 'b', 'c']) {
      const request = exporter.getByName(`request ${name}`)
      const children = spans.filter((s) => isChildOf(s, request))
      expect(children.map((s) => s.name)).toEqual(['SELECT', 'SELECT'])
    }
    const first = spans.filter((s) => s.attributes['db.query.text']?.toString().includes('pg_sleep'))
    const byPending = first.sort(
      (x, y) =>
        (x.attributes['db.client.connection.pool.pending_requests'] as number) -
        (y.attributes['db.client.connection.pool.pending_requests'] as number),
    )
    // all three asked at once: each saw the requests queued before it (itself included)
    expect(byPending.map((s) => s.attributes['db.client.connection.pool.pending_requests'])).toEqual([1, 2, 3])
    expect(first.every((s) => s.attributes['db.client.connection.pool.max'] === 1)).toBe(true)
    // by causality, not by the clock: the last in the queue could only start after the two
    // sleeping queries before it had given the connection back
    const waits = byPending.map((s) => s.attributes['db.client.connection.pool.wait_ms'] as number)
    expect(waits[2]).toBeGreaterThan(waits[0] as number)
  })

  it('the query span of a queued query covers its wait', async () => {
    const [slow, queued] = await Promise.all([
      trace('slow', () => pool.query('SELECT pg_sleep(0.05)')),
      trace('queued', () => pool.query('SELECT 42')),
    ]).then(() => [exporter.getByName('slow'), exporter.getByName('queued')])
    const spans = querySpans()
    const queuedSpan = spans.find((s) => isChildOf(s, queued as ReadableSpan)) as ReadableSpan
    const slowSpan = spans.find((s) => isChildOf(s, slow as ReadableSpan)) as ReadableSpan
    // ordering, not durations: the queued query's span started before the slow one ended and
    // ended after it, because it includes the time spent waiting for the only connection
    expect(queuedSpan.startTime).toBeLessThan(slowSpan.endTime)
    expect(queuedSpan.endTime).toBeGreaterThan(slowSpan.endTime)
    expect(queuedSpan.attributes['db.client.connection.pool.wait_ms']).toBeGreaterThan(0)
  })

  it('callback style: a queued query calls back in its own caller context', async () => {
    // the second query gets its connection from inside the first one's callback, on the socket
    const seen = await Promise.all(
      ['a', 'b'].map((name) =>
        trace(`callback ${name}`, (span) => {
          return new Promise<boolean>((resolve, reject) => {
            pool.query('SELECT pg_sleep(0.01), $1::text AS who', [name], (error) =>
              error ? reject(error) : resolve(activeSpan() === span),
            )
          })
        }),
      ),
    )
    expect(seen).toEqual([true, true])
    for (const name of ['a', 'b']) {
      expect(querySpans().filter((s) => isChildOf(s, exporter.getByName(`callback ${name}`)))).toHaveLength(1)
    }
  })
})

describe('a pool with an onConnect hook', () => {
  it("the hook's own query does not take over the pool query's start or checkout", async () => {
    const pool = new pg.Pool({
      connectionString: db().url,
      max: 1,
      onConnect: async (client) => {
        await client.query("SET application_name = 'threadline-test'")
      },
    })
    try {
      await trace('request', () => pool.query('SELECT 1 AS one'))
    } finally {
      await endPool(pool)
    }
    const spans = querySpans()
    const set = spans.find((s) => String(s.attributes['db.query.text']).startsWith('SET')) as ReadableSpan
    const select = spans.find((s) => s.attributes['db.query.text'] === 'SELECT ? AS one') as ReadableSpan
    expect(set).toBeDefined()
    // the pool query's span starts when pool.query was called, before the connection (and its hook) existed
    expect(select.startTime).toBeLessThanOrEqual(set.startTime)
    expect(select.attributes['db.client.connection.pool.wait_ms']).toBeTypeOf('number')
    expect(set.attributes['db.client.connection.pool.wait_ms']).toBeUndefined()
  })
})
