// The OpenTelemetry API bridge in a real app: an Express service traced by @threadline/express,
// a "library" that traces itself with @opentelemetry/api inside the handler, node-postgres
// instrumented by @threadline/pg under that OTel-API span (real PostgreSQL), and an outgoing fetch
// to a second Threadline service carrying baggage set through the OTel API.
import * as api from '@opentelemetry/api'
import { getBaggage, init, MemoryExporter, type ReadableSpan, SpanKind, shutdown } from '@threadline/core'
import { registerOpenTelemetry } from '@threadline/core/opentelemetry'
import { threadline } from '@threadline/express'
import { instrumentPg } from '@threadline/pg'
import express from 'express'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from '../../packages/pg/test/postgres.js'
import { listen, named, type Running, waitFor } from './harness.js'

const exporter = new MemoryExporter()
let unregister: () => void
let postgres: TestPostgres
let pool: pg.Pool
let users: Running
let audit: Running
let tenantSeenByAudit: string | undefined

/** A library instrumented only with @opentelemetry/api, as Prisma or GraphQL Yoga are. */
function loadUser(id: string): Promise<{ name: string } | undefined> {
  const tracer = api.trace.getTracer('user-repository', '2.1.0')
  return tracer.startActiveSpan('load user', { attributes: { 'user.id': id } }, async (span) => {
    try {
      const result = await pool.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [id])
      span.addEvent('rows', { count: result.rowCount ?? 0 })
      span.setStatus({ code: api.SpanStatusCode.OK })
      return result.rows[0]
    } finally {
      span.end()
    }
  })
}

beforeAll(async () => {
  postgres = await startPostgres()
  const setup = new pg.Client(postgres.url)
  await setup.connect()
  await setup.query(`
    DROP TABLE IF EXISTS users;
    CREATE TABLE users (id int PRIMARY KEY, name text);
    INSERT INTO users VALUES (7, 'Ann');
  `)
  await setup.end()

  unregister = registerOpenTelemetry()
  init({ serviceName: 'users', exporter, batch: false })
  instrumentPg(pg)
  pool = new pg.Pool({ connectionString: postgres.url, max: 2 })

  const auditApp = express()
  auditApp.use(threadline())
  auditApp.post('/audit', (_req, res) => {
    tenantSeenByAudit = getBaggage().get('tenant')?.value
    res.status(204).end()
  })
  audit = await listen(auditApp)

  const app = express()
  app.use(threadline())
  app.get('/users/:id', async (req, res) => {
    // user code reaches the request span through the OTel API
    api.trace.getActiveSpan()?.setAttribute('app.tenant', 'acme')
    const user = await loadUser(req.params.id)
    const withTenant = api.propagation.setBaggage(
      api.context.active(),
      api.propagation.createBaggage({ tenant: { value: 'acme' } }),
    )
    await api.context.with(withTenant, () => fetch(`${audit.url}/audit`, { method: 'POST' }))
    res.json(user ?? null)
  })
  users = await listen(app)
})

afterAll(async () => {
  await users?.close()
  await audit?.close()
  await pool?.end()
  await shutdown()
  unregister?.()
  await postgres?.stop()
})

describe('OpenTelemetry API bridge in a real Express + pg service', () => {
  it('nests request span → OTel-API library span → pg query span, and OTel baggage reaches the next service', async () => {
    const res = await fetch(`${users.url}/users/7`)
    expect(await res.json()).toEqual({ name: 'Ann' })
    const spans = await waitFor(
      () => exporter.getFinishedSpans(),
      // server spans end on 'finish', which may come after the caller has its response
      (s) => ['GET /users/:id', 'POST /audit'].every((name) => s.some((x) => x.name === name)),
    )
    const request = named(spans, 'GET /users/:id')
    const library = named(spans, 'load user')
    const query = one(spans.filter((s) => s.scope.name === '@threadline/pg'))
    const outgoing = one(spans.filter((s) => s.kind === SpanKind.CLIENT && s.scope.name !== '@threadline/pg'))
    const auditServer = named(spans, 'POST /audit')

    expect(request.kind).toBe(SpanKind.SERVER)
    expect(request.attributes['app.tenant']).toBe('acme')
    expect(library.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(library.scope).toEqual({ name: 'user-repository', version: '2.1.0' })
    expect(library.attributes['user.id']).toBe('7')
    expect(library.events.map((e) => e.name)).toEqual(['rows'])
    expect(query.parentSpanContext?.spanId).toBe(library.spanContext().spanId)
    expect(query.attributes['db.query.text']).toBe('SELECT name FROM users WHERE id = $1')
    expect(outgoing.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(auditServer.parentSpanContext?.spanId).toBe(outgoing.spanContext().spanId)
    for (const s of [library, query, outgoing, auditServer]) {
      expect(s.spanContext().traceId).toBe(request.spanContext().traceId)
    }
    expect(tenantSeenByAudit).toBe('acme')
  })
})

function one(spans: ReadableSpan[]): ReadableSpan {
  expect(spans, spans.map((s) => s.name).join(', ')).toHaveLength(1)
  return spans[0] as ReadableSpan
}
