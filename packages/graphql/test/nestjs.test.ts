// NestJS GraphQL: a real Nest application (platform-express) with TracingModule from
// @threadline/nestjs, and @nestjs/graphql (schema-first) served by a small GraphQL Yoga driver
// that uses useThreadline(), the way examples/microservices/catalog does it.
import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { type INestApplication, Inject, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import {
  AbstractGraphQLDriver,
  Args,
  type GqlModuleOptions,
  GraphQLModule,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql'
import { init, MemoryExporter, type ReadableSpan, SpanKind, SpanStatusCode, shutdown } from '@threadline/core'
import { TracingModule, TracingService } from '@threadline/nestjs'
import type { Express } from 'express'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { useThreadline } from '../src/index.js'
import { exceptionEvents } from './fixtures.js'

/** A minimal @nestjs/graphql driver: Yoga serving Nest's schema as an Express route at `path`. */
class YogaDriver extends AbstractGraphQLDriver<GqlModuleOptions> {
  private yoga: YogaServerInstance<object, object> | undefined

  async start(options: GqlModuleOptions): Promise<void> {
    const path = this.getNormalizedPath(options)
    const yoga = createYoga({
      schema: options.schema,
      plugins: [useThreadline()],
      graphqlEndpoint: path,
      logging: false,
      maskedErrors: false,
    })
    // a route Nest did not register: TracingModule names the request after the matched template
    this.httpAdapterHost.httpAdapter.getInstance<Express>().all(path, (req, res) => yoga(req, res))
    this.yoga = yoga
  }

  async stop(): Promise<void> {
    await this.yoga?.dispose()
  }
}

const typeDefs = /* GraphQL */ `
  type Post {
    id: ID!
    title: String!
  }
  type User {
    id: ID!
    name: String!
    posts: [Post!]!
    badge: String
  }
  type Query {
    user(id: ID!): User
    users(count: Int!): [User!]!
  }
`

interface User {
  id: string
  name: string
}

@Resolver('Query')
class QueryResolver {
  @Query('user')
  async user(@Args('id') id: string): Promise<User> {
    await new Promise((resolve) => setImmediate(resolve))
    return { id, name: `user ${id}` }
  }

  @Query('users')
  users(@Args('count') count: number): User[] {
    return Array.from({ length: count }, (_, i) => ({ id: String(i), name: `user ${i}` }))
  }
}

@Resolver('User')
class UserResolver {
  constructor(@Inject(TracingService) private readonly tracing: TracingService) {}

  @ResolveField('posts')
  posts(@Parent() user: User) {
    // a span the resolver starts through Nest's TracingService: it belongs under the resolver's span
    return this.tracing.trace('db.select posts', async () => {
      await new Promise((resolve) => setImmediate(resolve))
      return [1, 2].map((n) => ({ id: `${user.id}-${n}`, title: `post ${n} of ${user.id}` }))
    })
  }

  @ResolveField('badge')
  badge(@Parent() user: User): string {
    if (user.id.endsWith('7')) throw new Error(`no badge for ${user.id}`)
    return 'gold'
  }
}

@Module({
  imports: [
    TracingModule.forRoot({ serviceName: 'nest-graphql' }),
    GraphQLModule.forRoot<GqlModuleOptions>({ driver: YogaDriver, typeDefs, path: '/graphql' }),
  ],
  providers: [QueryResolver, UserResolver],
})
class AppModule {}

const exporter = new MemoryExporter()
let app: INestApplication
let url: string

beforeAll(async () => {
  init({ serviceName: 'nest-graphql', exporter, batch: false })
  // Yoga reads the request body itself
  app = await NestFactory.create(AppModule, { logger: false, bodyParser: false, abortOnError: false })
  await app.listen(0, '127.0.0.1')
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/graphql`
})
afterAll(async () => {
  await app?.close()
  await shutdown()
})
beforeEach(() => exporter.reset())

async function post(query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query }),
  })
  const body = (await response.json()) as { data?: unknown; errors?: Array<{ message: string; path?: unknown[] }> }
  // the server span ends when the response has finished on the server side
  for (let i = 0; i < 400 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return body
}

const childOf = (child: ReadableSpan, parent: ReadableSpan) =>
  child.parentSpanContext?.spanId === parent.spanContext().spanId

describe('NestJS GraphQL (@nestjs/graphql with a Yoga driver, TracingModule)', () => {
  it('names the request span after the route and the operation, with resolver spans under the operation', async () => {
    const body = await post('query GetUser { user(id: "1") { id name posts { id title } } }')
    expect(body.errors).toBeUndefined()
    expect(body.data).toEqual({
      user: {
        id: '1',
        name: 'user 1',
        posts: [
          { id: '1-1', title: 'post 1 of 1' },
          { id: '1-2', title: 'post 2 of 1' },
        ],
      },
    })
    const spans = exporter.getFinishedSpans()
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER)
    expect(servers.map((s) => s.name)).toEqual(['POST /graphql query GetUser'])
    const server = servers[0] as ReadableSpan
    const operation = exporter.getByName('query GetUser')
    const user = exporter.getByName('Query.user')
    const posts = exporter.getByName('User.posts')
    const db = exporter.getByName('db.select posts')
    expect(childOf(operation, server)).toBe(true)
    expect(childOf(user, operation)).toBe(true)
    expect(childOf(posts, user)).toBe(true)
    expect(childOf(db, posts)).toBe(true)
    expect(posts.attributes['graphql.field.path']).toBe('user.posts')
    // default resolvers (User.id, Post.title) make no spans
    expect(exporter.findByName('User.id')).toHaveLength(0)
    for (const span of spans) expect(span.spanContext().traceId).toBe(server.spanContext().traceId)
  })

  it('merges list items and records a resolver error with its path', async () => {
    const body = await post('query Badges { users(count: 20) { id badge posts { id } } }')
    expect(body.errors?.map((e) => e.message).sort()).toEqual(['no badge for 17', 'no badge for 7'])
    expect(exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)?.name).toBe('POST /graphql query Badges')
    const badge = exporter.getByName('User.badge')
    expect(childOf(badge, exporter.getByName('Query.users'))).toBe(true)
    expect(badge.attributes['graphql.field.path']).toBe('users.*.badge')
    expect(badge.attributes['graphql.resolver.count']).toBe(20)
    expect(badge.attributes['graphql.resolver.error_count']).toBe(2)
    expect(badge.status.code).toBe(SpanStatusCode.ERROR)
    const paths = exceptionEvents(badge).map((e) => e.attributes['graphql.error.path'])
    expect(paths.sort()).toEqual(['users.17.badge', 'users.7.badge'])
    expect(exporter.getByName('User.posts').attributes['graphql.resolver.count']).toBe(20)
    expect(exporter.findByName('db.select posts')).toHaveLength(20)
    expect(exporter.getByName('query Badges').status.code).toBe(SpanStatusCode.ERROR)
  })
})
