// graphql 17: the diagnostics_channel front door, with graphql-js's own parse/validate/execute.

import v8 from 'node:v8'
import vm from 'node:vm'
import { buildTrees, init, MemoryExporter, SpanStatusCode, shutdown, trace } from '@threadline/core'
import * as graphql from 'graphql'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  buildSchema,
  exceptionEvents,
  inServerSpan,
  type ScoresBehaviour,
  scoresSchema,
  shape,
} from '../test/fixtures.js'
import { instrumentGraphql } from './index.js'

const exporter = new MemoryExporter()
const schema = buildSchema(graphql, {
  inPosts: (id) => trace('db.select posts', async () => id),
})
let uninstrument: () => void

beforeAll(() => {
  init({ serviceName: 'graphql-17', exporter, batch: false })
  uninstrument = instrumentGraphql()
})
afterAll(async () => {
  uninstrument()
  await shutdown()
})
beforeEach(() => exporter.reset())

/** parse, validate and execute, as a server does, inside a SERVER span. */
function run(
  source: string,
  variableValues?: Record<string, unknown>,
  operationName?: string,
): Promise<{ errors?: ReadonlyArray<{ message: string }> }> {
  return inServerSpan(async () => {
    let document: graphql.DocumentNode
    try {
      document = graphql.parse(source)
    } catch (error) {
      return { errors: [error as graphql.GraphQLError] }
    }
    const errors = graphql.validate(schema, document)
    if (errors.length) return { errors }
    return graphql.execute({ schema, document, variableValues, operationName })
  })
}

describe('graphql 17 tracing channels', () => {
  it('traces parse, validate, the operation and user resolvers as a tree', async () => {
    expect(graphql.version.startsWith('17.')).toBe(true)
    const result = await run('query GetUser { user(id: "1") { id name posts { id title upperTitle } } }')
    expect(result.errors).toBeUndefined()
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
    const op = exporter.getByName('query GetUser')
    expect(op.attributes['graphql.operation.name']).toBe('GetUser')
    expect(op.attributes['graphql.operation.type']).toBe('query')
    expect(op.attributes['graphql.document']).toBeUndefined()
    const posts = exporter.getByName('User.posts')
    expect(posts.attributes).toMatchObject({
      'graphql.field.name': 'posts',
      'graphql.field.path': 'user.posts',
      'graphql.field.type': '[Post!]!',
      'graphql.parent.type': 'User',
      'graphql.resolver.count': 1,
    })
    // the sync resolver of the two posts: one merged span, path with `*` for the list index
    expect(exporter.getByName('Post.upperTitle').attributes).toMatchObject({
      'graphql.field.path': 'user.posts.*.upperTitle',
      'graphql.resolver.count': 2,
    })
  })

  it('merges 1,000 list items into one span per field path, with count and durations', async () => {
    const result = await run('query Many { users(count: 1000) { id name posts { id upperTitle } } }')
    expect(result.errors).toBeUndefined()
    const spans = exporter.getFinishedSpans()
    // server, parse, validate, operation, Query.users, User.posts, Post.upperTitle, and the
    // 1,000 `db.select posts` children still attached to the merged User.posts span
    const db = exporter.findByName('db.select posts')
    expect(db).toHaveLength(1000)
    expect(spans.length - db.length).toBe(7)
    const posts = exporter.getByName('User.posts')
    for (const child of db) expect(child.parentSpanContext?.spanId).toBe(posts.spanContext().spanId)
    const { attributes } = posts
    expect(attributes['graphql.field.path']).toBe('users.*.posts')
    expect(attributes['graphql.resolver.count']).toBe(1000)
    const total = attributes['graphql.resolver.duration.total_ms'] as number
    const max = attributes['graphql.resolver.duration.max_ms'] as number
    const p50 = attributes['graphql.resolver.duration.p50_ms'] as number
    expect(max).toBeGreaterThan(0)
    expect(p50).toBeLessThanOrEqual(max)
    expect(total).toBeGreaterThanOrEqual(max)
    // the merged span covers the first start to the last end of its calls
    expect(posts.endTime - posts.startTime).toBeGreaterThanOrEqual(max)
    expect(exporter.getByName('Post.upperTitle').attributes['graphql.resolver.count']).toBe(2000)
  })

  it('keeps the interleaved calls of two concurrent executions on their own spans', async () => {
    // the posts of both executions settle turn by turn, so their Post.upperTitle calls alternate
    const source = '{ users(count: 20) { posts { upperTitle } } }'
    const [a, b] = await Promise.all([run(source), run(source)])
    expect(a.errors ?? b.errors).toBeUndefined()
    const titles = exporter.findByName('Post.upperTitle')
    expect(titles).toHaveLength(2)
    expect(titles[0]?.spanContext().traceId).not.toBe(titles[1]?.spanContext().traceId)
    for (const span of titles) expect(span.attributes['graphql.resolver.count']).toBe(40)
    const posts = exporter.findByName('User.posts')
    for (const span of titles) {
      const parent = posts.find((p) => p.spanContext().spanId === span.parentSpanContext?.spanId)
      expect(parent?.spanContext().traceId).toBe(span.spanContext().traceId)
    }
    // the db spans made inside User.posts calls stay under the User.posts span of their own trace
    const db = exporter.findByName('db.select posts')
    expect(db).toHaveLength(40)
    for (const child of db) {
      const parent = posts.find((p) => p.spanContext().spanId === child.parentSpanContext?.spanId)
      expect(parent?.spanContext().traceId).toBe(child.spanContext().traceId)
    }
  })

  it('records no span for default (trivial) resolvers', async () => {
    await run('{ users(count: 3) { id name } }')
    const names = exporter.getFinishedSpans().map((s) => s.name)
    expect(names.filter((n) => n.startsWith('User.'))).toEqual([])
    expect(names).toContain('Query.users')
  })
})

describe('graphql 17 sampling of cheap resolvers', () => {
  const document = graphql.parse('query Scores { items { score } }')
  const execute = (schema: graphql.GraphQLSchema) => inServerSpan(() => graphql.execute({ schema, document }))

  it('records the errors of untimed asynchronous calls from the response, each once, with its path', async () => {
    const behaviour: ScoresBehaviour = {}
    const schema = scoresSchema(graphql, 100, behaviour)
    // the first execution times every call: they settle in their own turn, so the field is cheap
    await execute(schema)
    // the second is sampled (one call in 16 is timed): all but item 47 of items 7, 17, ..., 97 are untimed
    exporter.reset()
    behaviour.failWhen = (n) => n % 10 === 7
    const result = await execute(schema)
    expect(result.errors).toHaveLength(10)
    const score = exporter.getByName('Item.score')
    expect(score.attributes['graphql.resolver.count']).toBe(100)
    expect(score.attributes['graphql.resolver.error_count']).toBe(10)
    expect(score.status.code).toBe(SpanStatusCode.ERROR)
    const events = exceptionEvents(score)
    const paths = events.map((e) => e.attributes['graphql.error.path'] as string)
    expect(paths.sort((a, b) => a.length - b.length || a.localeCompare(b))).toEqual(
      Array.from({ length: 10 }, (_, i) => `items.${i * 10 + 7}.score`),
    )
    // an untimed call's error: the resolver's own error, as for a timed call
    const seven = events.find((e) => e.attributes['graphql.error.path'] === 'items.7.score')
    expect(seven?.attributes['exception.message']).toBe('no score for 7')
    expect(seven?.attributes['exception.type']).toBe('Error')
    const op = exporter.getByName('query Scores')
    expect(op.attributes['graphql.error.count']).toBe(10)
    expect(exceptionEvents(op)).toHaveLength(0)
  })

  it('times a field again when its asynchronous calls turn slow', async () => {
    const behaviour: ScoresBehaviour = {}
    const schema = scoresSchema(graphql, 20, behaviour)
    await execute(schema)
    await execute(schema)
    behaviour.waitMs = 5
    for (const run of ['sampled when it turned slow', 'timed again']) {
      exporter.reset()
      await execute(schema)
      const { attributes, startTime, endTime } = exporter.getByName('Item.score')
      expect(attributes['graphql.resolver.count'], run).toBe(20)
      // setTimeout may fire up to 1 ms early by the monotonic clock
      expect(attributes['graphql.resolver.duration.p50_ms'], run).toBeGreaterThanOrEqual(4)
      expect(attributes['graphql.resolver.duration.max_ms'], run).toBeGreaterThanOrEqual(4)
      expect(attributes['graphql.resolver.duration.total_ms'], run).toBeGreaterThanOrEqual(80)
      expect(endTime - startTime, run).toBeGreaterThanOrEqual(4)
    }
  })
})

describe('graphql 17 options', () => {
  afterAll(() => {
    instrumentGraphql()
  })

  it('stops at the depth limit', async () => {
    instrumentGraphql({ depth: 1 })
    await run('{ user(id: "1") { posts { upperTitle } friends { id } } }')
    const names = exporter.getFinishedSpans().map((s) => s.name)
    expect(names).toContain('Query.user')
    expect(names.filter((n) => n.startsWith('User.') || n.startsWith('Post.'))).toEqual([])
    // spans made inside a resolver below the limit still join the trace, under the nearest span
    const db = exporter.getByName('db.select posts')
    expect(db.parentSpanContext?.spanId).toBe(exporter.getByName('query').spanContext().spanId)
  })

  it('makes one span per call when merging is off', async () => {
    instrumentGraphql({ mergeListItems: false })
    await run('{ users(count: 3) { posts { id } } }')
    const posts = exporter.findByName('User.posts')
    expect(posts.map((s) => s.attributes['graphql.field.path']).sort()).toEqual([
      'users.0.posts',
      'users.1.posts',
      'users.2.posts',
    ])
    const users = exporter.getByName('Query.users')
    for (const span of posts) expect(span.parentSpanContext?.spanId).toBe(users.spanContext().spanId)
  })

  it('records the document sanitised and only allow-listed variables', async () => {
    instrumentGraphql({ recordDocument: true, allowedVariables: ['id'] })
    await run(
      `# a comment
      query GetUser($id: ID!, $count: Int!) {
        user(id: $id) { id, name }
        second: user(id: "7") { id }
        users(count: $count) { id }
        more: users(count: 2) { id }
      }`,
      { id: '42', count: 3 },
    )
    const op = exporter.getByName('query GetUser')
    expect(op.attributes['graphql.document']).toBe(
      'query GetUser($id: ID! $count: Int!) { user(id: $id) { id name } second: user(id: ?) { id } users(count: $count) { id } more: users(count: ?) { id } }',
    )
    expect(op.attributes['graphql.variables.id']).toBe('42')
    expect(op.attributes['graphql.variables.count']).toBeUndefined()
  })

  it('records only the operation when resolver spans are off', async () => {
    instrumentGraphql({ resolverSpans: false })
    await run('query GetUser { user(id: "1") { posts { id } } }')
    expect(shape(buildTrees(exporter.getFinishedSpans()))).toEqual([
      'POST /graphql query GetUser',
      '  graphql.parse',
      '  graphql.validate',
      '  query GetUser',
      '    db.select posts',
    ])
  })

  it('leaves the server span name alone when asked', async () => {
    instrumentGraphql({ renameServerSpan: false })
    await run('query GetUser { hello }')
    expect(exporter.findByName('POST /graphql')).toHaveLength(1)
  })
})

describe('graphql 17 operations and errors', () => {
  it('names anonymous operations and mutations', async () => {
    await run('{ hello }')
    await run('mutation CreateOrder { createOrder(item: "book") }')
    await run('mutation { createOrder(item: "pen") }')
    const names = exporter.getFinishedSpans().map((s) => s.name)
    expect(names).toContain('query')
    expect(names).toContain('POST /graphql query')
    expect(names).toContain('mutation CreateOrder')
    expect(names).toContain('mutation')
    expect(exporter.getByName('mutation CreateOrder').attributes['graphql.operation.type']).toBe('mutation')
  })

  it('picks the named operation of a document with several', async () => {
    await run('query A { hello } query B { user(id: "2") { id } }', undefined, 'B')
    expect(exporter.findByName('query B')).toHaveLength(1)
    expect(exporter.findByName('query A')).toHaveLength(0)
  })

  it('marks a parse error on graphql.parse', async () => {
    await run('query Broken { user(id: "1") { id ')
    const parse = exporter.getByName('graphql.parse')
    expect(parse.status.code).toBe(SpanStatusCode.ERROR)
    expect(exceptionEvents(parse)[0]?.attributes['exception.message']).toMatch(/Syntax Error/)
    expect(exporter.findByName('graphql.validate')).toHaveLength(0)
  })

  it('records validation errors on graphql.validate', async () => {
    await run('query Bad { user(id: "1") { nope } }')
    const validate = exporter.getByName('graphql.validate')
    expect(validate.status.code).toBe(SpanStatusCode.ERROR)
    expect(exceptionEvents(validate)[0]?.attributes['exception.message']).toMatch(/Cannot query field "nope"/)
    expect(exporter.findByName('query Bad')).toHaveLength(0)
  })

  it('records a resolver error on its field span with the path, and marks the operation', async () => {
    const result = await run('query Fails { fail hello }')
    expect(result.errors?.[0]?.message).toBe('resolver failed')
    const field = exporter.getByName('Query.fail')
    expect(field.status.code).toBe(SpanStatusCode.ERROR)
    const [event] = exceptionEvents(field)
    expect(event?.attributes['exception.message']).toBe('resolver failed')
    expect(event?.attributes['graphql.error.path']).toBe('fail')
    const op = exporter.getByName('query Fails')
    expect(op.status.code).toBe(SpanStatusCode.ERROR)
    expect(op.attributes['graphql.error.count']).toBe(1)
    // recorded once, where it happened
    expect(exceptionEvents(op)).toHaveLength(0)
  })

  it('records errors of some list items on the merged span, each with its path', async () => {
    await run('{ users(count: 20) { badge } }')
    const badge = exporter.getByName('User.badge')
    expect(badge.attributes['graphql.resolver.count']).toBe(20)
    expect(badge.attributes['graphql.resolver.error_count']).toBe(2)
    expect(exceptionEvents(badge).map((e) => e.attributes['graphql.error.path'])).toEqual([
      'users.7.badge',
      'users.17.badge',
    ])
  })

  it('records a non-null violation on the nearest span, with its path', async () => {
    const result = await run('query NonNull { user(id: "3") { nickname } }')
    expect(result.errors?.[0]?.message).toMatch(/Cannot return null for non-nullable field User.nickname/)
    const field = exporter.getByName('User.nickname')
    const [event] = exceptionEvents(field)
    expect(event?.attributes['graphql.error.path']).toBe('user.nickname')
    expect(exporter.getByName('query NonNull').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('does not break subscriptions', async () => {
    const document = graphql.parse('subscription OnTicks { ticks(count: 3) }')
    const values = await inServerSpan(async () => {
      const stream = await graphql.subscribe({ schema, document })
      const seen: unknown[] = []
      for await (const event of stream as AsyncIterable<graphql.ExecutionResult>) seen.push(event.data?.ticks)
      return seen
    })
    expect(values).toEqual([1, 2, 3])
    const op = exporter.getByName('subscription OnTicks')
    expect(op.attributes['graphql.operation.type']).toBe('subscription')
  })

  it('costs nothing but a context lookup when the request is not sampled', async () => {
    await shutdown()
    init({ serviceName: 'graphql-17', exporter, batch: false, sampler: { shouldSample: () => ({ decision: 0 }) } })
    await run('query GetUser { user(id: "1") { posts { id } } }')
    expect(exporter.getFinishedSpans()).toEqual([])
  })
})

describe('graphql 17 incremental delivery (@defer, @stream)', () => {
  // its own exporter and SDK: the last test above shut the SDK down and turned sampling off
  const spans = new MemoryExporter()
  beforeAll(async () => {
    await shutdown()
    init({ serviceName: 'graphql-17', exporter: spans, batch: false })
  })
  beforeEach(() => spans.reset())
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  let lastLetterAt = 0
  const Query = new graphql.GraphQLObjectType({
    name: 'Query',
    fields: {
      fast: { type: graphql.GraphQLString, resolve: () => 'fast' },
      slow: {
        type: graphql.GraphQLString,
        resolve: () => trace('db.select slow', () => sleep(20).then(() => 'slow')),
      },
      broken: {
        type: graphql.GraphQLString,
        resolve: async () => {
          await sleep(5)
          throw new Error('deferred failure')
        },
      },
      letters: {
        type: new graphql.GraphQLList(graphql.GraphQLString),
        async *resolve() {
          for (const letter of ['a', 'b', 'c']) {
            await sleep(2)
            lastLetterAt = performance.now()
            yield letter
          }
        },
      },
    },
  })
  const deferSchema = new graphql.GraphQLSchema({
    query: Query,
    directives: [...graphql.specifiedDirectives, graphql.GraphQLDeferDirective, graphql.GraphQLStreamDirective],
  })
  type Payload = { hasNext: boolean }
  const incremental = async (source: string) => {
    const result = await graphql.experimentalExecuteIncrementally({
      schema: deferSchema,
      document: graphql.parse(source),
    })
    if (!('initialResult' in result)) throw new Error(`expected an incremental result, got ${JSON.stringify(result)}`)
    return result as unknown as { initialResult: graphql.ExecutionResult; subsequentResults: AsyncGenerator<Payload> }
  }

  it('ends the operation with the last payload; deferred resolvers get their spans', async () => {
    const { initial, payloads } = await inServerSpan(async () => {
      const result = await incremental('query Deferred { fast ... @defer { slow } }')
      const payloads: Payload[] = []
      for await (const payload of result.subsequentResults) payloads.push(payload)
      return { initial: result.initialResult, payloads }
    })
    expect(initial.data).toEqual({ fast: 'fast' })
    expect(payloads.at(-1)?.hasNext).toBe(false)
    expect(shape(buildTrees(spans.getFinishedSpans()))).toEqual([
      'POST /graphql query Deferred',
      '  graphql.parse',
      '  query Deferred',
      '    Query.fast',
      '    Query.slow',
      '      db.select slow',
    ])
    const op = spans.getByName('query Deferred')
    expect(op.endTime).toBeGreaterThanOrEqual(spans.getByName('Query.slow').endTime)
    expect(op.status.code).not.toBe(SpanStatusCode.ERROR)
  })

  it('records the errors of later payloads', async () => {
    await inServerSpan(async () => {
      const result = await incremental('query Broken { fast ... @defer { broken } }')
      for await (const _ of result.subsequentResults);
    })
    const [event] = exceptionEvents(spans.getByName('Query.broken'))
    expect(event?.attributes['exception.message']).toBe('deferred failure')
    const op = spans.getByName('query Broken')
    expect(op.status.code).toBe(SpanStatusCode.ERROR)
    expect(op.attributes['graphql.error.count']).toBe(1)
  })

  it('follows a @stream to its end', async () => {
    const items = await inServerSpan(async () => {
      const result = await incremental('query Letters { letters @stream(initialCount: 1) }')
      const seen: unknown[] = [...((result.initialResult.data?.letters as unknown[]) ?? [])]
      for await (const payload of result.subsequentResults as AsyncGenerator<{
        incremental?: { items?: unknown[] }[]
      }>) {
        for (const part of payload.incremental ?? []) seen.push(...(part.items ?? []))
      }
      return seen
    })
    expect(items).toEqual(['a', 'b', 'c'])
    // span times are performance.now() times: the operation outlived the last item
    expect(spans.getByName('query Letters').endTime).toBeGreaterThanOrEqual(lastLetterAt)
  })

  it('ends the operation when the consumer closes the stream early (a client went away)', async () => {
    let closedAt = 0
    await inServerSpan(async () => {
      const result = await incremental('query Early { fast ... @defer { slow } }')
      closedAt = performance.now()
      await result.subsequentResults.return(undefined)
    })
    expect(spans.getByName('query Early').endTime).toBeGreaterThanOrEqual(closedAt)
  })

  it('ends the operation of a stream dropped unread, at its last payload', async () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    let initialAt = 0
    await inServerSpan(async () => {
      await incremental('query Dropped { fast ... @defer { slow } }')
      initialAt = performance.now()
    })
    // the operation waits for its stream...
    expect(spans.getFinishedSpans().map((s) => s.name)).not.toContain('query Dropped')
    // ...and is not lost when the stream is dropped. Bounded: the registry's callback runs in a
    // task after the collection that found the stream unreachable.
    for (let i = 0; i < 50 && !spans.getFinishedSpans().some((s) => s.name === 'query Dropped'); i++) {
      gc()
      await sleep(10)
    }
    expect(spans.getByName('query Dropped').endTime).toBeLessThanOrEqual(initialAt)
  })
})
