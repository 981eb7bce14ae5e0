import {
  activeSpan,
  contextWithRemoteParent,
  type ReadableSpan,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  withContext,
} from '@threadline/core'
import pg from 'pg'
import Cursor from 'pg-cursor'
import QueryStream from 'pg-query-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exporter, isChildOf, onlyQuerySpan, querySpans, usePostgres } from '../test/harness.js'
import { instrumentPg } from './index.js'

const { db } = usePostgres()

describe('a query span for every calling style', () => {
  let client: pg.Client
  beforeAll(async () => {
    // connected outside any span, as an app does at startup
    client = new pg.Client(db().url)
    await client.connect()
  })
  afterAll(() => client.end())

  it('promise: named after the summary, a CLIENT child of the active span, with sanitized SQL', async () => {
    const parent = await trace('request', async (span) => {
      const result = await client.query("SELECT id, email FROM users WHERE email = 'ann@example.com' OR id > 2")
      expect(result.rows).toHaveLength(2)
      expect(activeSpan()).toBe(span) // the caller's span, not the query's, after await
      return span
    })
    const span = onlyQuerySpan()
    expect(span.name).toBe('SELECT users')
    expect(span.kind).toBe(SpanKind.CLIENT)
    expect(isChildOf(span, exporter.getByName('request'))).toBe(true)
    expect(parent.isRecording()).toBe(false)
    expect(span.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': db().database,
      'db.operation.name': 'SELECT',
      'db.collection.name': 'users',
      'db.query.summary': 'SELECT users',
      'db.query.text': 'SELECT id, email FROM users WHERE email = ? OR id > ?',
      'db.response.returned_rows': 2,
      'server.address': db().host,
      'server.port': db().port,
    })
    expect(JSON.stringify(span.attributes)).not.toContain('ann@example.com')
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('callback: the span has ended and the caller span is active inside the callback', async () => {
    const seen = await trace('request', (span) => {
      return new Promise<{ active: unknown; ended: number }>((resolve, reject) => {
        client.query('SELECT name FROM users WHERE id = $1', [1], (error, result) => {
          if (error) return reject(error)
          expect(result.rows[0]).toEqual({ name: 'Ann' })
          resolve({ active: activeSpan() === span, ended: querySpans().length })
        })
      })
    })
    expect(seen).toEqual({ active: true, ended: 1 })
    const span = onlyQuerySpan()
    expect(span.attributes['db.query.text']).toBe('SELECT name FROM users WHERE id = $1')
    expect(span.attributes['db.response.returned_rows']).toBe(1)
    expect(Object.keys(span.attributes).some((k) => k.startsWith('db.query.parameter'))).toBe(false)
  })

  it('callback without values, and a config object carrying its own callback', async () => {
    await trace('request', async (span) => {
      await new Promise<void>((resolve, reject) =>
        client.query('SELECT 1 AS one', (error) => (error ? reject(error) : resolve())),
      )
      await new Promise<void>((resolve, reject) => {
        const config = {
          text: 'SELECT email FROM users WHERE id = $1',
          values: [2],
          callback: (error: Error | null) => {
            expect(activeSpan()).toBe(span)
            return error ? reject(error) : resolve()
          },
        }
        client.query(config as unknown as pg.QueryConfig)
      })
    })
    expect(querySpans().map((s) => s.name)).toEqual(['SELECT', 'SELECT users'])
  })

  it('prepared statements (name) and config objects', async () => {
    await trace('request', async () => {
      for (const id of [1, 2]) {
        await client.query({ name: 'user-by-id', text: 'SELECT * FROM users WHERE id = $1', values: [id] })
      }
    })
    const spans = querySpans()
    expect(spans).toHaveLength(2)
    for (const span of spans) {
      expect(span.name).toBe('SELECT users')
      expect(span.attributes['db.query.text']).toBe('SELECT * FROM users WHERE id = $1')
    }
  })

  it('a pg.Query submittable ends when the query completes', async () => {
    const rows = await trace('request', () => {
      const query = client.query(new pg.Query('SELECT id FROM items WHERE id <= 5'))
      const seen: unknown[] = []
      return new Promise<unknown[]>((resolve, reject) => {
        query.on('row', (row: unknown) => seen.push(row))
        query.on('end', () => resolve(seen))
        query.on('error', reject)
      })
    })
    expect(rows).toHaveLength(5)
    const span = onlyQuerySpan()
    expect(span.name).toBe('SELECT items')
    expect(span.attributes['db.response.returned_rows']).toBe(5)
    expect(isChildOf(span, exporter.getByName('request'))).toBe(true)
  })

  it('pg-cursor: the span lasts until the cursor is closed and counts the rows read', async () => {
    await trace('request', async () => {
      const cursor = client.query(new Cursor('SELECT * FROM items ORDER BY id'))
      expect(await cursor.read(10)).toHaveLength(10)
      expect(querySpans()).toHaveLength(0) // still open
      expect(await cursor.read(5)).toHaveLength(5)
      await cursor.close()
    })
    const span = onlyQuerySpan()
    expect(span.name).toBe('SELECT items')
    expect(span.attributes['db.response.returned_rows']).toBe(15)
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('pg-query-stream: the span ends when the stream ends', async () => {
    const count = await trace('request', async (span) => {
      const stream = client.query(new QueryStream('SELECT * FROM items WHERE id > $1', [0], { batchSize: 16 }))
      let n = 0
      for await (const _row of stream) {
        expect(activeSpan()).toBe(span)
        n++
      }
      return n
    })
    expect(count).toBe(100)
    const span = onlyQuerySpan()
    expect(span.attributes['db.query.text']).toBe('SELECT * FROM items WHERE id > $1')
    expect(span.attributes['db.response.returned_rows']).toBe(100)
  })

  it('pg-query-stream: the span ends with the error when the stream fails', async () => {
    await trace('request', async () => {
      const stream = client.query(new QueryStream('SELECT * FROM no_such_table'))
      await expect(async () => {
        for await (const _row of stream) {
          // never reached
        }
      }).rejects.toThrow(/no_such_table/)
    })
    const span = onlyQuerySpan()
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes['db.response.status_code']).toBe('42P01')
    expect(span.attributes['error.type']).toBe('42P01')
  })

  it('pipeline mode: concurrent queries on one client each get their own span', async () => {
    const piped = new pg.Client({ connectionString: db().url, pipeline: true } as pg.ClientConfig)
    await piped.connect()
    try {
      await trace('request', () =>
        Promise.all([
          piped.query('SELECT id FROM users WHERE id = $1', [1]),
          piped.query('SELECT id FROM items WHERE id <= $1', [3]),
          piped.query('SELEC broken').catch((error: Error) => error),
        ]),
      )
    } finally {
      await piped.end()
    }
    const spans = querySpans()
    expect(spans.map((s) => s.name).sort()).toEqual(['SELEC', 'SELECT items', 'SELECT users'])
    expect(spans.find((s) => s.name === 'SELECT items')?.attributes['db.response.returned_rows']).toBe(3)
    expect(spans.find((s) => s.name === 'SELEC')?.attributes['db.response.status_code']).toBe('42601')
  })

  it('multi-statement text: one span, rows of every statement', async () => {
    await trace('request', () => client.query('SELECT 1; SELECT id FROM items WHERE id < 3'))
    const span = onlyQuerySpan()
    expect(span.name).toBe('SELECT SELECT items')
    expect(span.attributes['db.operation.name']).toBe('SELECT')
    expect(span.attributes['db.response.returned_rows']).toBe(3)
  })
})

describe('errors', () => {
  let client: pg.Client
  beforeAll(async () => {
    client = new pg.Client(db().url)
    await client.connect()
  })
  afterAll(() => client.end())

  function expectError(span: ReadableSpan, sqlstate: string): void {
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes['db.response.status_code']).toBe(sqlstate)
    expect(span.attributes['error.type']).toBe(sqlstate)
    expect(span.events.find((e) => e.name === 'exception')).toBeDefined()
  }

  it('a syntax error is 42601', async () => {
    await trace('request', () => expect(client.query('SELEC 1')).rejects.toMatchObject({ code: '42601' }))
    expectError(onlyQuerySpan(), '42601')
  })

  it('a unique violation is 23505, through a callback too', async () => {
    await trace('request', async (span) => {
      const error = await new Promise<Error & { code?: string }>((resolve) => {
        client.query("INSERT INTO users (email) VALUES ('ann@example.com')", (err) => {
          expect(activeSpan()).toBe(span)
          resolve(err as Error)
        })
      })
      expect(error.code).toBe('23505')
    })
    const span = onlyQuerySpan()
    expect(span.name).toBe('INSERT users')
    expectError(span, '23505')
    expect(JSON.stringify(span.attributes)).not.toContain('ann@example.com')
  })

  it('a client that has ended: the span has the error and pg rejects as usual', async () => {
    const ended = new pg.Client(db().url)
    await ended.connect()
    await ended.end()
    await trace('request', () => expect(ended.query('SELECT 1')).rejects.toThrow(/not queryable/))
    const span = onlyQuerySpan()
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes['db.response.status_code']).toBeUndefined()
  })

  it('a bad argument still throws synchronously, as pg does', () => {
    expect(() => trace('request', () => client.query(null as unknown as string))).toThrow(TypeError)
    expect(querySpans()).toHaveLength(0)
  })
})

describe('options', () => {
  let client: pg.Client
  beforeAll(async () => {
    client = new pg.Client(db().url)
    await client.connect()
  })
  afterAll(() => client.end())

  it('requireParentSpan (default): no span without an active span', async () => {
    await client.query('SELECT 1')
    expect(querySpans()).toHaveLength(0)
  })

  it('an unsampled parent: no span, and the callback still runs in the caller context', async () => {
    const unsampled = contextWithRemoteParent(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
    })
    const seen = await withContext(unsampled, () => {
      const caller = activeSpan()
      return new Promise<boolean>((resolve, reject) =>
        client.query('SELECT 1', (error) => (error ? reject(error) : resolve(activeSpan() === caller))),
      )
    })
    expect(seen).toBe(true)
    expect(querySpans()).toHaveLength(0)
  })

  it('requireParentSpan: false makes root spans for background queries', async () => {
    instrumentPg(pg, { requireParentSpan: false })
    await client.query('SELECT 1')
    const span = onlyQuerySpan()
    expect(span.parentSpanContext).toBeUndefined()
  })

  it('queryHook adds attributes and sees the statement; a throwing hook breaks nothing', async () => {
    instrumentPg(pg, {
      queryHook: (span, query) => {
        span.setAttribute('app.statement', query.query.name ?? 'unnamed')
        if (query.query.text?.includes('boom')) throw new Error('hook failed')
      },
    })
    await trace('request', async () => {
      await client.query({ name: 'one', text: 'SELECT 1' })
      await client.query("SELECT 'boom'")
    })
    const [first, second] = querySpans()
    expect(first?.attributes['app.statement']).toBe('one')
    expect(second?.attributes['app.statement']).toBe('unnamed')
  })

  it('recordParameters and queryText are opt-in', async () => {
    instrumentPg(pg, { recordParameters: true, queryText: 'raw' })
    await trace('request', () => client.query("SELECT $1::text, $2::int, 'x'", ['a', 2]))
    expect(onlyQuerySpan().attributes).toMatchObject({
      'db.query.parameter.0': 'a',
      'db.query.parameter.1': '2',
      'db.query.text': "SELECT $1::text, $2::int, 'x'",
    })
    exporter.reset()
    instrumentPg(pg, { queryText: 'off' })
    await trace('request', () => client.query('SELECT 1'))
    expect(onlyQuerySpan().attributes['db.query.text']).toBeUndefined()
  })

  it('connectSpans: a span per new connection', async () => {
    instrumentPg(pg, { connectSpans: true })
    await trace('request', async () => {
      const extra = new pg.Client(db().url)
      await extra.connect()
      await extra.end()
    })
    const span = exporter.getByName('connect')
    expect(span.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': db().database })
    expect(isChildOf(span, exporter.getByName('request'))).toBe(true)
  })

  it('instrumenting twice wraps once; ESM and CJS pg are the same module', async () => {
    instrumentPg(pg)
    instrumentPg(pg)
    const { createRequire } = await import('node:module')
    const cjs = createRequire(import.meta.url)('pg') as typeof pg
    expect(cjs.Client.prototype.query).toBe(pg.Client.prototype.query)
    await trace('request', () => client.query('SELECT 1'))
    expect(querySpans()).toHaveLength(1)
  })

  it('rejects something that is not pg, with a code', () => {
    expect(() => instrumentPg({} as unknown as typeof pg)).toThrow(
      expect.objectContaining({ code: 'TL_ERR_PG_MODULE' }),
    )
  })
})
