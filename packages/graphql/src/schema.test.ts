// graphql 16 (no tracing channels): `instrumentSchema` alone, with graphql-js's own execute.
import { buildTrees, init, MemoryExporter, SpanStatusCode, shutdown, trace } from '@threadline/core'
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
import { instrumentSchema } from './index.js'

const exporter = new MemoryExporter()
const schema = buildSchema(graphql, { inPosts: (id) => trace('db.select posts', async () => id) })

beforeAll(() => {
  init({ serviceName: 'graphql-16', exporter, batch: false })
  instrumentSchema(schema)
})
afterAll(() => shutdown())
beforeEach(() => exporter.reset())

async function run(source: string) {
  const result = await inServerSpan(() => graphql.graphql({ schema, source }))
  // merged spans of an execution without an operation hook end once its resolvers are idle
  await new Promise((resolve) => setImmediate(resolve))
  return result
}

describe('graphql 16 with instrumentSchema', () => {
  it('runs on graphql 16', () => {
    expect(graphql.version.startsWith('16.')).toBe(true)
    expect(instrumentSchema(schema)).toBe(schema)
  })

  it('traces user resolvers as a tree under the request span', async () => {
    const result = await run(GET_USER)
    expect(result.errors).toBeUndefined()
    expect(result.data).toEqual(GET_USER_DATA)
    expect(shape(buildTrees(exporter.getFinishedSpans()))).toEqual([
      'POST /graphql',
      '  Query.user',
      '    User.posts',
      '      db.select posts',
      '      Post.upperTitle',
    ])
    expect(exporter.getByName('Post.upperTitle').attributes).toMatchObject({
      'graphql.field.path': 'user.posts.*.upperTitle',
      'graphql.resolver.count': 2,
      'graphql.parent.type': 'Post',
    })
  })

  it('merges 1,000 list items into a bounded number of spans', async () => {
    const result = await run('{ users(count: 1000) { id name posts { upperTitle } } }')
    expect(result.errors).toBeUndefined()
    const db = exporter.findByName('db.select posts')
    expect(db).toHaveLength(1000)
    expect(exporter.getFinishedSpans().length - db.length).toBe(4)
    expect(exporter.getByName('User.posts').attributes['graphql.resolver.count']).toBe(1000)
    expect(exporter.getByName('Post.upperTitle').attributes['graphql.resolver.count']).toBe(2000)
  })

  it('records resolver errors with their path', async () => {
    const result = await run('{ fail users(count: 8) { badge } }')
    expect(result.errors?.map((e) => e.message).sort()).toEqual(['no badge for 7', 'resolver failed'])
    const fail = exporter.getByName('Query.fail')
    expect(fail.status.code).toBe(SpanStatusCode.ERROR)
    expect(exceptionEvents(fail)[0]?.attributes['graphql.error.path']).toBe('fail')
    expect(exceptionEvents(exporter.getByName('User.badge'))[0]?.attributes['graphql.error.path']).toBe('users.7.badge')
  })

  it('keeps two concurrent executions of the same document apart', async () => {
    const source = '{ users(count: 5) { posts { upperTitle } } }'
    const [a, b] = await Promise.all([run(source), run(source)])
    expect(a.errors ?? b.errors).toBeUndefined()
    const posts = exporter.findByName('User.posts')
    expect(posts).toHaveLength(2)
    expect(posts[0]?.spanContext().traceId).not.toBe(posts[1]?.spanContext().traceId)
    for (const span of posts) expect(span.attributes['graphql.resolver.count']).toBe(5)
  })

  it('traces default resolvers too when asked, still merged', async () => {
    const all = instrumentSchema(buildSchema(graphql), { ignoreTrivialResolvers: false })
    await inServerSpan(() => graphql.graphql({ schema: all, source: '{ users(count: 50) { id name } }' }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(exporter.getByName('User.name').attributes['graphql.resolver.count']).toBe(50)
    expect(exporter.getByName('User.id').attributes['graphql.field.path']).toBe('users.*.id')
  })

  it('counts cheap synchronous calls without timing each, and still times a field that turns slow', async () => {
    const { GraphQLSchema, GraphQLObjectType, GraphQLInt, GraphQLList } = graphql
    const busy = (ms: number) => {
      for (const end = performance.now() + ms; performance.now() < end; );
    }
    const Item = new GraphQLObjectType({
      name: 'Item',
      fields: {
        // cheap for the first 500 items, then 0.1 ms each: the field must be timed again
        weight: {
          type: GraphQLInt,
          resolve: (n: number) => {
            if (n >= 500) busy(0.1)
            return n
          },
        },
        double: { type: GraphQLInt, resolve: (n: number) => n * 2 },
      },
    })
    const Query = new GraphQLObjectType({
      name: 'Query',
      fields: { items: { type: new GraphQLList(Item), resolve: () => Array.from({ length: 1001 }, (_, i) => i) } },
    })
    const items = instrumentSchema(new GraphQLSchema({ query: Query }))
    const result = await inServerSpan(() => graphql.graphql({ schema: items, source: '{ items { weight double } }' }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(result.errors).toBeUndefined()
    const double = exporter.getByName('Item.double')
    expect(double.attributes['graphql.resolver.count']).toBe(1001)
    expect(double.attributes['graphql.resolver.duration.total_ms']).toBeGreaterThanOrEqual(0)
    const weight = exporter.getByName('Item.weight')
    expect(weight.attributes['graphql.resolver.count']).toBe(1001)
    expect(weight.attributes['graphql.resolver.duration.total_ms']).toBeGreaterThanOrEqual(40)
    expect(weight.attributes['graphql.resolver.duration.max_ms']).toBeGreaterThanOrEqual(0.1)
    // a merged span covers its last call, untimed or not: the last item's `double` runs after its `weight`
    expect(double.endTime).toBeGreaterThanOrEqual(weight.endTime)
  })

  it("calls then() of a resolver's thenable once (a query builder would run twice)", async () => {
    const { GraphQLSchema, GraphQLObjectType, GraphQLString } = graphql
    let thens = 0
    const lazy = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable, as query builders return
      then(onFulfilled: (value: string) => unknown, onRejected?: (error: unknown) => unknown) {
        thens++
        return Promise.resolve('rows').then(onFulfilled, onRejected)
      },
    }
    const Query = new GraphQLObjectType({
      name: 'Query',
      fields: { rows: { type: GraphQLString, resolve: () => lazy } },
    })
    const lazySchema = instrumentSchema(new GraphQLSchema({ query: Query }))
    const result = await inServerSpan(() => graphql.graphql({ schema: lazySchema, source: '{ rows }' }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(result.data).toEqual({ rows: 'rows' })
    expect(thens).toBe(1)
    expect(exporter.getByName('Query.rows').attributes['graphql.field.path']).toBe('rows')
  })

  it('records the rejection of an untimed asynchronous call with its path, without an operation hook', async () => {
    const behaviour: ScoresBehaviour = {}
    const scores = instrumentSchema(scoresSchema(graphql, 100, behaviour))
    const execute = async () => {
      const result = await inServerSpan(() => graphql.graphql({ schema: scores, source: '{ items { score } }' }))
      await new Promise((resolve) => setImmediate(resolve))
      return result
    }
    // the first execution proves the field cheap; in the second, one call in 16 is timed (item 47 of the failing ones)
    await execute()
    exporter.reset()
    behaviour.failWhen = (n) => n % 10 === 7
    const result = await execute()
    expect(result.errors).toHaveLength(10)
    const score = exporter.getByName('Item.score')
    expect(score.attributes['graphql.resolver.count']).toBe(100)
    expect(score.attributes['graphql.resolver.error_count']).toBe(10)
    const paths = exceptionEvents(score).map((e) => e.attributes['graphql.error.path'] as string)
    expect(paths.sort((a, b) => a.length - b.length || a.localeCompare(b))).toEqual(
      Array.from({ length: 10 }, (_, i) => `items.${i * 10 + 7}.score`),
    )
  })
})
