// The trace continues from the HTTP request through GraphQL resolvers into `pg` query spans:
// GraphQL Yoga behind @threadline/express, node-postgres instrumented by @threadline/pg, a real PostgreSQL.
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { init, MemoryExporter, type ReadableSpan, SpanKind, shutdown } from '@threadline/core'
import { threadline } from '@threadline/express'
import { instrumentPg } from '@threadline/pg'
import express from 'express'
import { createYoga } from 'graphql-yoga'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from '../../pg/test/postgres.js'
import { useThreadline } from '../src/index.js'

// Yoga's dependencies load graphql's CommonJS build: the schema must come from the same copy.
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql')
const exporter = new MemoryExporter()
let database: TestPostgres
let pool: pg.Pool
let url: string
let close: () => Promise<void>

beforeAll(async () => {
  database = await startPostgres()
  const setup = new pg.Client(database.url)
  await setup.connect()
  await setup.query(`
    DROP TABLE IF EXISTS authors, books;
    CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE books (id serial PRIMARY KEY, author_id int NOT NULL, title text NOT NULL);
    INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, 50) g;
    INSERT INTO books (author_id, title) SELECT g % 50 + 1, 'book ' || g FROM generate_series(1, 150) g;
  `)
  await setup.end()
  init({ serviceName: 'graphql-pg', exporter, batch: false })
  instrumentPg(pg)
  pool = new pg.Pool({ connectionString: database.url, max: 4 })
  pool.on('error', () => {}) // idle clients see the server stop at the end

  const { GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLList, GraphQLInt } = graphql
  const Book = new GraphQLObjectType({ name: 'Book', fields: { title: { type: GraphQLString } } })
  const Author = new GraphQLObjectType({
    name: 'Author',
    fields: {
      name: { type: GraphQLString },
      // the N+1 a user would want to see: one query per author
      books: {
        type: new GraphQLList(Book),
        resolve: async (author: { id: number }) =>
          (await pool.query('SELECT title FROM books WHERE author_id = $1 ORDER BY id', [author.id])).rows,
      },
    },
  })
  const Query = new GraphQLObjectType({
    name: 'Query',
    fields: {
      authors: {
        type: new GraphQLList(Author),
        args: { limit: { type: GraphQLInt } },
        resolve: async (_root: unknown, args: { limit: number }) =>
          (await pool.query('SELECT id, name FROM authors ORDER BY id LIMIT $1', [args.limit])).rows,
      },
    },
  })
  const yoga = createYoga({
    schema: new GraphQLSchema({ query: Query }),
    plugins: [useThreadline()],
    logging: false,
  })
  const app = express()
  app.use(threadline({ serviceName: 'graphql-pg' }))
  app.all(yoga.graphqlEndpoint, yoga)
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  close = async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})
afterAll(async () => {
  await close?.()
  await pool?.end()
  await shutdown()
  await database?.stop()
})

const childOf = (child: ReadableSpan, parent: ReadableSpan) =>
  child.parentSpanContext?.spanId === parent.spanContext().spanId

describe('GraphQL resolvers querying PostgreSQL', () => {
  it('puts each resolver’s SQL spans under its (merged) resolver span, in the request’s trace', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: 'query Library { authors(limit: 50) { name books { title } } }' }),
    })
    const body = (await response.json()) as { data: { authors: Array<{ books: unknown[] }> } }
    expect(body.data.authors).toHaveLength(50)
    expect(body.data.authors[0]?.books).toHaveLength(3)
    for (let i = 0; i < 200 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER) as ReadableSpan
    expect(server.name).toBe('POST /graphql query Library')
    const operation = exporter.getByName('query Library')
    const authors = exporter.getByName('Query.authors')
    const books = exporter.getByName('Author.books')
    expect(childOf(operation, server)).toBe(true)
    expect(childOf(authors, operation)).toBe(true)
    expect(childOf(books, authors)).toBe(true)
    expect(books.attributes['graphql.field.path']).toBe('authors.*.books')
    expect(books.attributes['graphql.resolver.count']).toBe(50)

    const sql = exporter.getFinishedSpans().filter((s) => s.scope.name === '@threadline/pg')
    const authorQueries = sql.filter((s) => childOf(s, authors))
    const bookQueries = sql.filter((s) => childOf(s, books))
    expect(authorQueries.map((s) => s.name)).toEqual(['SELECT authors'])
    // the N+1, tied to the resolver path that causes it: 50 queries under one span
    expect(bookQueries).toHaveLength(50)
    expect(new Set(bookQueries.map((s) => s.name))).toEqual(new Set(['SELECT books']))
    for (const span of sql) expect(span.spanContext().traceId).toBe(server.spanContext().traceId)
  })
})
