// graphql 16 with a wrapped `execute` (what graphql-http or express-graphql call), and how the
// resolver calls of cheap fields find their span, untimed calls included.
import {
  activeSpan,
  buildTrees,
  init,
  MemoryExporter,
  type ReadableSpan,
  SpanStatusCode,
  shutdown,
  trace,
} from '@threadline/core'
import * as graphql from 'graphql16'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  buildSchema,
  exceptionEvents,
  GET_USER,
  GET_USER_DATA,
  inServerSpan,
  type ScoresBehaviour,
  scoresSchema,
  shape,
} from '../test/fixtures.js'
import { instrumentExecute } from './index.js'

const exporter = new MemoryExporter()
const execute = instrumentExecute(graphql.execute)

beforeAll(() => {
  init({ serviceName: 'graphql-16-execute', exporter, batch: false })
})
afterAll(() => shutdown())
beforeEach(() => exporter.reset())

function run(schema: unknown, source: string, variableValues?: Record<string, unknown>) {
  return inServerSpan(() =>
    execute({ schema: schema as graphql.GraphQLSchema, document: graphql.parse(source), variableValues }),
  )
}

describe('instrumentExecute on graphql 16', () => {
  const schema = buildSchema(graphql, { inPosts: (id) => trace('db.select posts', async () => id) })

  it('makes the operation span, with the resolver spans under it, and leaves the result alone', async () => {
    const result = await run(schema, GET_USER)
    expect(graphql.version.startsWith('16.')).toBe(true)
    expect(result.errors).toBeUndefined()
    expect(result.data).toEqual(GET_USER_DATA)
    expect(shape(buildTrees(exporter.getFinishedSpans()))).toEqual([
      'POST /graphql query GetUser',
      '  query GetUser',
      '    Query.user',
      '      User.posts',
      '        db.select posts',
      '        Post.upperTitle',
    ])
    const op = exporter.getByName('query GetUser')
    expect(op.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'GetUser' })
    // the merged span ended with its last call: the operation span (ended with the result) covers it
    expect(op.endTime).toBeGreaterThanOrEqual(exporter.getByName('Post.upperTitle').endTime)
  })

  it('ends the operation of a synchronous execution (no promise) at once', () => {
    const result = run(schema, '{ hello }') as graphql.ExecutionResult
    expect(result.data).toEqual({ hello: 'world' })
    expect(shape(buildTrees(exporter.getFinishedSpans()))).toEqual([
      'POST /graphql query',
      '  query',
      '    Query.hello',
    ])
  })

  it('records the errors of the result where they happened and marks the operation an error', async () => {
    const result = await run(schema, '{ users(count: 10) { id badge } fail }')
    expect(result.errors).toHaveLength(2)
    const op = exporter.getByName('query')
    expect(op.status.code).toBe(SpanStatusCode.ERROR)
    expect(op.attributes['graphql.error.count']).toBe(2)
    expect(exceptionEvents(exporter.getByName('User.badge')).map((e) => e.attributes['graphql.error.path'])).toEqual([
      'users.7.badge',
    ])
    expect(exceptionEvents(exporter.getByName('Query.fail'))).toHaveLength(1)
  })

  it('finds the rejections of untimed asynchronous calls in the result, with their paths', async () => {
    const behaviour: ScoresBehaviour = {}
    const scores = scoresSchema(graphql, 100, behaviour)
    await run(scores, '{ items { score } }') // proves the field cheap: most calls of the next run are untimed
    exporter.reset()
    behaviour.failWhen = (n) => n % 10 === 7
    const result = await run(scores, '{ items { score } }')
    expect(result.errors).toHaveLength(10)
    const score = exporter.getByName('Item.score')
    expect(score.attributes['graphql.resolver.count']).toBe(100)
    expect(score.attributes['graphql.resolver.error_count']).toBe(10)
    const paths = exceptionEvents(score).map((e) => e.attributes['graphql.error.path'] as string)
    expect(paths.sort((a, b) => a.length - b.length || a.localeCompare(b))).toEqual(
      Array.from({ length: 10 }, (_, i) => `items.${i * 10 + 7}.score`),
    )
  })

  it('ends the operation with the error when execute throws, and rethrows it', () => {
    // not a schema: graphql's own error, not one of ours from reading it
    expect(() => execute({ schema: {}, document: graphql.parse('{ hello }') } as never)).toThrow(/GraphQL schema/)
    const op = exporter.getByName('query')
    expect(op.status.code).toBe(SpanStatusCode.ERROR)
    expect(exceptionEvents(op)).toHaveLength(1)
  })

  it('runs a document it fails to read untraced, with the same result', () => {
    const recording = instrumentExecute(graphql.execute, { recordDocument: true })
    const document = graphql.parse('{ hello }')
    Object.defineProperty(document, 'loc', {
      get() {
        throw new Error('a document proxy that refuses loc')
      },
    })
    const result = inServerSpan(() => recording({ schema, document })) as graphql.ExecutionResult
    expect(result).toEqual({ data: { hello: 'world' } })
    expect(exporter.getFinishedSpans().map((s) => s.name)).not.toContain('query')
  })

  it('passes calls it cannot read straight through', () => {
    expect(() => (execute as (...args: unknown[]) => unknown)()).toThrow()
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })
})

describe('the context of cheap resolver calls', () => {
  const { GraphQLSchema, GraphQLObjectType, GraphQLInt, GraphQLList } = graphql
  const COUNT = 1000

  /** `{ items { value } }` over COUNT items; `value` is cheap and does what `resolve` says. */
  function itemsSchema(resolve: (n: number) => unknown) {
    const Item = new GraphQLObjectType({
      name: 'Item',
      fields: { value: { type: GraphQLInt, resolve } },
    })
    const Query = new GraphQLObjectType({
      name: 'Query',
      fields: { items: { type: new GraphQLList(Item), resolve: () => Array.from({ length: COUNT }, (_, i) => i) } },
    })
    return new GraphQLSchema({ query: Query })
  }

  const childrenOf = (parent: ReadableSpan, name: string) =>
    exporter
      .getFinishedSpans()
      .filter((s) => s.name === name && s.parentSpanContext?.spanId === parent.spanContext().spanId)

  /** Two executions: the first proves the field cheap, so most calls of the second are untimed. */
  async function twice(schema: unknown) {
    const run = instrumentExecute(graphql.execute)
    const once = () =>
      inServerSpan(() =>
        run({ schema: schema as graphql.GraphQLSchema, document: graphql.parse('{ items { value } }') }),
      )
    await once()
    exporter.reset()
    const result = await once()
    expect(result.errors).toBeUndefined()
    return exporter.getByName('Item.value')
  }

  it('the active span of every call, timed or not, is its field span (synchronous and asynchronous resolvers)', async () => {
    for (const resolve of [(n: number) => n, async (n: number) => n]) {
      const seen = new Map<string, number>()
      const schema = itemsSchema((n) => {
        const id = activeSpan()?.spanContext().spanId ?? 'none'
        seen.set(id, (seen.get(id) ?? 0) + 1)
        return resolve(n)
      })
      const value = await twice(schema)
      expect(value.attributes['graphql.resolver.count']).toBe(COUNT)
      // the second execution's calls (most of them untimed) all saw the field span
      expect(seen.get(value.spanContext().spanId)).toBe(COUNT)
    }
  })

  it('keeps the spans a synchronous resolver starts under its field span', async () => {
    const schema = itemsSchema((n) => (n % 2 ? trace('lookup', () => n) : n))
    const value = await twice(schema)
    expect(childrenOf(value, 'lookup')).toHaveLength(COUNT / 2)
  })

  /** An asynchronous resolver whose calls start a span after an `await` (for odd items). */
  const awaiting = () =>
    itemsSchema(async (n) => {
      await null
      return n % 2 ? trace('lookup', () => n) : n
    })

  it('keeps the spans an asynchronous resolver starts after an await under its field span', async () => {
    const value = await twice(awaiting())
    expect(childrenOf(value, 'lookup')).toHaveLength(COUNT / 2)
  })

  it('keeps the spans of a resolver that turns asynchronous under its field span', async () => {
    let async = false
    const schema = itemsSchema((n) => {
      if (!async) return n
      return (async () => {
        await null
        return n % 2 ? trace('lookup', () => n) : n
      })()
    })
    await twice(schema) // proves the field cheap and synchronous
    exporter.reset()
    async = true
    const result = await run(schema, '{ items { value } }')
    expect(result.errors).toBeUndefined()
    expect(childrenOf(exporter.getByName('Item.value'), 'lookup')).toHaveLength(COUNT / 2)
  })
})
