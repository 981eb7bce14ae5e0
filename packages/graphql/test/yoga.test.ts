// GraphQL Yoga (graphql 17, @graphql-tools/executor) behind Express and @threadline/express, over HTTP.
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { buildTrees, init, MemoryExporter, SpanKind, SpanStatusCode, shutdown, trace } from '@threadline/core'
import { threadline } from '@threadline/express'
import express from 'express'
import { createYoga } from 'graphql-yoga'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { instrumentGraphql, useThreadline } from '../src/index.js'
import { buildSchema, exceptionEvents, shape } from './fixtures.js'

// Yoga's dependencies load graphql's CommonJS build: the schema must come from the same copy.
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql')
const exporter = new MemoryExporter()
let url: string
let close: () => Promise<void>

beforeAll(async () => {
  init({ serviceName: 'yoga', exporter, batch: false })
  // graphql 17's channels on as well: Yoga parses and validates with graphql-js, and the spans
  // must not be doubled (the tree below is compared line by line)
  instrumentGraphql()
  const schema = buildSchema(graphql, { inPosts: (id) => trace('db.select posts', async () => id) })
  const yoga = createYoga({ schema, plugins: [useThreadline()], logging: false, maskedErrors: false })
  const app = express()
  app.use(threadline())
  // a route (not a `use` mount) so @threadline/express knows the template `/graphql`
  app.all(yoga.graphqlEndpoint, yoga)
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  close = () => new Promise((resolve) => server.close(() => resolve()))
})
afterAll(async () => {
  await close()
  await shutdown()
})
beforeEach(() => exporter.reset())

async function post(query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await response.json()) as { data?: unknown; errors?: Array<{ message: string }> }
  // the server span ends when the response has finished on the server side
  await waitFor(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER))
  return body
}

/** Polls for a condition a finished response implies (no timing assertion: only how long to look). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe('GraphQL Yoga over HTTP', () => {
  it('names the request span after the operation and nests resolvers and their children', async () => {
    const body = await post('query GetUser($id: ID!) { user(id: $id) { id name posts { id upperTitle } } }', {
      id: '1',
    })
    expect(body.errors).toBeUndefined()
    const spans = exporter.getFinishedSpans()
    const server = spans.find((s) => s.kind === SpanKind.SERVER)
    expect(server?.name).toBe('POST /graphql query GetUser')
    const tree = shape(buildTrees(spans)).filter((line) => !line.trimStart().startsWith('POST /graphql query'))
    expect(tree).toEqual([
      '  graphql.parse',
      '  graphql.validate',
      '  query GetUser',
      '    Query.user',
      '      User.posts',
      '        db.select posts',
      '        Post.upperTitle',
    ])
    // all in the request's trace
    for (const span of spans) expect(span.spanContext().traceId).toBe(server?.spanContext().traceId)
  })

  it('merges list items and records resolver errors over HTTP', async () => {
    const body = await post('query Badges { users(count: 1000) { id badge posts { id } } }')
    expect(body.errors?.length).toBe(100)
    const badge = exporter.getByName('User.badge')
    expect(badge.attributes['graphql.resolver.count']).toBe(1000)
    expect(badge.attributes['graphql.resolver.error_count']).toBe(100)
    expect(exceptionEvents(badge)[0]?.attributes['graphql.error.path']).toBe('users.7.badge')
    expect(exporter.getByName('User.posts').attributes['graphql.resolver.count']).toBe(1000)
    expect(exporter.getFinishedSpans().length - exporter.findByName('db.select posts').length).toBe(7)
    expect(exporter.getByName('query Badges').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('records validation errors and runs no operation', async () => {
    const body = await post('{ user(id: "1") { nope } }')
    expect(body.errors?.[0]?.message).toMatch(/Cannot query field "nope"/)
    const validate = exporter.getByName('graphql.validate')
    expect(validate.status.code).toBe(SpanStatusCode.ERROR)
    expect(exporter.findByName('query')).toHaveLength(0)
  })

  it('names anonymous queries and mutations', async () => {
    await post('{ hello }')
    expect(exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)?.name).toBe('POST /graphql query')
    exporter.reset()
    await post('mutation CreateOrder { createOrder(item: "book") }')
    expect(exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)?.name).toBe(
      'POST /graphql mutation CreateOrder',
    )
  })

  it('does not break subscriptions (server-sent events)', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription OnTicks { ticks(count: 3) }' }),
    })
    const text = await response.text()
    expect(text).toContain('{"data":{"ticks":1}}')
    expect(text).toContain('{"data":{"ticks":3}}')
    await waitFor(() => exporter.findByName('subscription OnTicks').length > 0)
    expect(exporter.getByName('subscription OnTicks').attributes['graphql.operation.type']).toBe('subscription')
  })
})
