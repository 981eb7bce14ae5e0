// graphql 16 (no tracing channels): `instrumentSchema` alone, with graphql-js's own execute.
import { buildTrees, init, MemoryExporter, SpanStatusCode, shutdown, trace } from '@threadline/core'
import * as graphql from 'graphql16'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildSchema, exceptionEvents, inServerSpan, shape } from '../test/fixtures.js'
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
    const result = await run('query GetUser { user(id: "1") { id name posts { title upperTitle } } }')
    expect(result.errors).toBeUndefined()
    expect(result.data).toEqual({
      user: {
        id: '1',
        name: 'user 1',
        posts: [
          { title: 'post 1 of 1', upperTitle: 'POST 1 OF 1' },
          { title: 'post 2 of 1', upperTitle: 'POST 2 OF 1' },
        ],
      },
    })
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
})
