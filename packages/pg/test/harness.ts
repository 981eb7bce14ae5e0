/** Shared setup for this package's tests: a real PostgreSQL, tracing into memory, pg instrumented. */
import { init, MemoryExporter, type ReadableSpan, shutdown } from '@threadline/core'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { instrumentPg } from '../src/index.js'
import { startPostgres, type TestPostgres } from './postgres.js'

export const exporter = new MemoryExporter()
export const database: { current: TestPostgres } = { current: undefined as unknown as TestPostgres }

/** Starts PostgreSQL with a `users` table (3 rows) and an `items` table (100 rows), and tracing. */
export function usePostgres(): { db: () => TestPostgres } {
  beforeAll(async () => {
    database.current = await startPostgres()
    const setup = new pg.Client(database.current.url)
    await setup.connect()
    await setup.query(`
      DROP TABLE IF EXISTS users, items;
      CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, name text);
      INSERT INTO users (email, name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob'), ('cy@example.com', 'Cy');
      CREATE TABLE items (id int PRIMARY KEY, label text);
      INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
    `)
    await setup.end()
    init({ serviceName: 'pg-test', exporter, batch: false })
    instrumentPg(pg)
  })
  afterAll(async () => {
    await shutdown()
    await database.current?.stop()
  })
  beforeEach(() => {
    instrumentPg(pg) // back to the default options
    exporter.reset()
  })
  return { db: () => database.current }
}

/** The spans made by @threadline/pg. */
export function querySpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.scope.name === '@threadline/pg')
}

/** The one query span; throws (for tests) if there are none or several. */
export function onlyQuerySpan(): ReadableSpan {
  const spans = querySpans()
  if (spans.length !== 1)
    throw new Error(`expected one query span, found ${spans.map((s) => s.name).join(', ') || 'none'}`)
  return spans[0] as ReadableSpan
}

export function isChildOf(child: ReadableSpan, parent: ReadableSpan): boolean {
  return (
    child.parentSpanContext?.spanId === parent.spanContext().spanId &&
    child.spanContext().traceId === parent.spanContext().traceId
  )
}

/**
 * Ends a pool and waits for its connections to close: `pool.end()` resolves as soon as it has asked
 * them to, and a server stopped before they are gone makes them emit an unhandled pool error.
 */
export async function endPool(pool: pg.Pool): Promise<void> {
  let open = pool.totalCount
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve()
    pool.on('remove', () => {
      if (--open === 0) resolve()
    })
  })
  await pool.end()
  await closed
}
