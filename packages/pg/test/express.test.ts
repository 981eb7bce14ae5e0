import type { AddressInfo } from 'node:net'
import { threadline } from '@threadline/express'
import express from 'express'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { endPool, exporter, isChildOf, querySpans, usePostgres } from './harness.js'

const { db } = usePostgres()

describe('an Express handler doing queries', () => {
  let pool: pg.Pool
  let server: ReturnType<ReturnType<typeof express>['listen']>
  let url: string
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: db().url, max: 2 })
    const app = express()
    app.use(threadline({ serviceName: 'shop' }))
    app.get('/users/:id', async (req, res) => {
      const user = await pool.query('SELECT id, name FROM users WHERE id = $1', [Number(req.params.id)])
      const client = await pool.connect()
      try {
        const items = await client.query("SELECT count(*) FROM items WHERE label LIKE 'item 1%'")
        res.json({ user: user.rows[0], items: items.rows[0].count })
      } finally {
        client.release()
      }
    })
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve())
    })
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await endPool(pool)
  })

  it('puts the SQL spans under the request span, in one trace', async () => {
    const res = await fetch(`${url}/users/2`)
    expect(await res.json()).toEqual({ user: { id: 2, name: 'Bob' }, items: '12' })
    // the server span ends when the response finishes, which may be just after the client has it
    for (let i = 0; i < 100 && !exporter.findByName('GET /users/:id').length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const request = exporter.getByName('GET /users/:id')
    const spans = querySpans()
    expect(spans.map((s) => s.name)).toEqual(['SELECT users', 'SELECT items'])
    for (const span of spans) {
      expect(isChildOf(span, request)).toBe(true)
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId)
    }
    expect(spans[1]?.attributes['db.query.text']).toBe('SELECT count(*) FROM items WHERE label LIKE ?')
  })
})
