// Apollo Server 5 (graphql 16, from the private fixture) behind node:http and core's server span.
import { createServer, type IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import {
  buildTrees,
  getTracer,
  init,
  MemoryExporter,
  SpanKind,
  SpanStatusCode,
  shutdown,
  startServerSpan,
  trace,
} from '@threadline/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { threadlineApolloPlugin } from '../src/index.js'
import { buildSchema, exceptionEvents, type GraphQLModule, shape } from './fixtures.js'

// Apollo Server peers on graphql 16 and lives in its own install (see vitest.config.ts); its
// schema must be built with that install's graphql, in the same (CommonJS) module format.
const fixture = createRequire(new URL('./apollo-fixture/package.json', import.meta.url))
const graphql = fixture('graphql') as GraphQLModule & { version: string }
const { ApolloServer, HeaderMap } = fixture('@apollo/server') as ApolloModule

// The part of @apollo/server's API used here, typed locally: the fixture (and its types) is only
// installed when the tests run, after the type-check.
interface ApolloModule {
  HeaderMap: new () => Map<string, string>
  ApolloServer: new (config: {
    schema: unknown
    plugins: unknown[]
    includeStacktraceInErrorResponses?: boolean
  }) => {
    start(): Promise<void>
    stop(): Promise<void>
    executeHTTPGraphQLRequest(request: {
      httpGraphQLRequest: { method: string; headers: Map<string, string>; search: string; body: unknown }
      context: () => Promise<object>
    }): Promise<{
      status?: number
      headers: Map<string, string>
      body: { kind: 'complete'; string: string } | { kind: 'chunked'; asyncIterator: AsyncIterable<string> }
    }>
  }
}

const exporter = new MemoryExporter()
const tracer = getTracer('apollo-test-server')
let url: string
let close: () => Promise<void>

beforeAll(async () => {
  init({ serviceName: 'apollo', exporter, batch: false })
  const schema = buildSchema(graphql, { inPosts: (id) => trace('db.select posts', async () => id) })
  const apollo = new ApolloServer({
    schema,
    plugins: [threadlineApolloPlugin()],
    includeStacktraceInErrorResponses: false,
  })
  await apollo.start()
  const server = createServer((req, res) => {
    const handle = startServerSpan(req, res, { tracer })
    handle.setRoute('/graphql')
    handle.run(async () => {
      const headers = new HeaderMap()
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(name, String(value))
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: '', body: await readJson(req) },
        context: async () => ({ requestId: Math.random() }),
      })
      res.statusCode = result.status ?? 200
      for (const [name, value] of result.headers) res.setHeader(name, value)
      if (result.body.kind === 'complete') res.end(result.body.string)
      else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk)
        res.end()
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  close = async () => {
    await apollo.stop()
    await new Promise((resolve) => server.close(resolve))
  }
})
afterAll(async () => {
  await close()
  await shutdown()
})
beforeEach(() => exporter.reset())

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function post(query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await response.json()) as { data?: unknown; errors?: Array<{ message: string }> }
  await waitFor(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER))
  return body
}

/** Polls for a condition a finished response implies (no timing assertion: only how long to look). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}

const server = () => exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)

describe('Apollo Server 5 over HTTP', () => {
  it('runs on graphql 16', () => {
    expect(graphql.version.startsWith('16.')).toBe(true)
  })

  it('names the request span after the operation and nests resolvers and their children', async () => {
    const body = await post('query GetUser($id: ID!) { user(id: $id) { id name posts { id upperTitle } } }', {
      id: '1',
    })
    expect(body.errors).toBeUndefined()
    expect(server()?.name).toBe('POST /graphql query GetUser')
    expect(shape(buildTrees(exporter.getFinishedSpans()))).toEqual([
      'POST /graphql query GetUser',
      '  graphql.parse',
      '  graphql.validate',
      '  query GetUser',
      '    Query.user',
      '      User.posts',
      '        db.select posts',
      '        Post.upperTitle',
    ])
    expect(exporter.getByName('query GetUser').attributes['graphql.operation.name']).toBe('GetUser')
  })

  it('merges 1,000 list items into a bounded number of spans', async () => {
    const body = await post('query Many { users(count: 1000) { id posts { upperTitle } } }')
    expect(body.errors).toBeUndefined()
    const db = exporter.findByName('db.select posts')
    expect(db).toHaveLength(1000)
    expect(exporter.getFinishedSpans().length - db.length).toBe(7)
    expect(exporter.getByName('User.posts').attributes['graphql.resolver.count']).toBe(1000)
  })

  it('records resolver errors, non-null violations and marks the operation', async () => {
    const body = await post('query Broken { fail user(id: "5") { nickname } }')
    expect(body.errors?.map((e) => e.message).sort()).toEqual([
      'Cannot return null for non-nullable field User.nickname.',
      'resolver failed',
    ])
    expect(exceptionEvents(exporter.getByName('Query.fail'))[0]?.attributes['graphql.error.path']).toBe('fail')
    expect(exceptionEvents(exporter.getByName('User.nickname'))[0]?.attributes['graphql.error.path']).toBe(
      'user.nickname',
    )
    const op = exporter.getByName('query Broken')
    expect(op.status.code).toBe(SpanStatusCode.ERROR)
    expect(op.attributes['graphql.error.count']).toBe(2)
  })

  it('records parse and validation errors', async () => {
    await post('{ user(id: "1") { id ')
    expect(exporter.getByName('graphql.parse').status.code).toBe(SpanStatusCode.ERROR)
    exporter.reset()
    await post('{ user(id: "1") { nope } }')
    const validate = exporter.getByName('graphql.validate')
    expect(validate.status.code).toBe(SpanStatusCode.ERROR)
    expect(exceptionEvents(validate)[0]?.attributes['exception.message']).toMatch(/Cannot query field "nope"/)
  })

  it('names anonymous operations', async () => {
    await post('{ hello }')
    expect(server()?.name).toBe('POST /graphql query')
  })
})
