/**
 * A test schema built with whichever graphql-js a test runs (17 at the root, 16 through the
 * `graphql16` alias or the Apollo fixture), and helpers to read the spans it produces.
 */
import { type ReadableSpan, type SpanTreeNode, trace } from '@threadline/core'

/** The constructors the schema needs; graphql 16 and 17 both have them (their types differ). */
export type GraphQLModule = Record<
  | 'GraphQLSchema'
  | 'GraphQLObjectType'
  | 'GraphQLString'
  | 'GraphQLInt'
  | 'GraphQLID'
  | 'GraphQLList'
  | 'GraphQLNonNull',
  // biome-ignore lint/suspicious/noExplicitAny: constructors of either graphql version
  any
>

export interface FixtureOptions {
  /** Called inside `User.posts` (async): e.g. a `pg` query or a core `trace()` child span. */
  inPosts?: (userId: string) => Promise<unknown>
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

// biome-ignore lint/suspicious/noExplicitAny: the schema is built with graphql 16 or 17 at run time
export function buildSchema(g: GraphQLModule, options: FixtureOptions = {}): any {
  const { GraphQLSchema, GraphQLObjectType, GraphQLString, GraphQLInt, GraphQLID, GraphQLList, GraphQLNonNull } = g
  const Post = new GraphQLObjectType({
    name: 'Post',
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      title: { type: GraphQLString },
      // sync, user code
      upperTitle: { type: GraphQLString, resolve: (post: { title: string }) => post.title.toUpperCase() },
    },
  })
  // biome-ignore lint/suspicious/noExplicitAny: recursive type
  const User: any = new GraphQLObjectType({
    name: 'User',
    fields: () => ({
      id: { type: new GraphQLNonNull(GraphQLID) },
      name: { type: new GraphQLNonNull(GraphQLString) },
      posts: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Post))),
        resolve: async (user: { id: string }) => {
          await options.inPosts?.(user.id)
          await tick()
          return [1, 2].map((n) => ({ id: `${user.id}-${n}`, title: `post ${n} of ${user.id}` }))
        },
      },
      friends: {
        type: new GraphQLList(User),
        resolve: (user: { id: string }) => [{ id: `${user.id}f`, name: 'friend' }],
      },
      // a resolver that throws for users whose id ends in 7
      badge: {
        type: GraphQLString,
        resolve: (user: { id: string }) => {
          if (user.id.endsWith('7')) throw new Error(`no badge for ${user.id}`)
          return 'gold'
        },
      },
      // returns null for a non-null field: a non-null violation raised by graphql, not the resolver
      nickname: { type: new GraphQLNonNull(GraphQLString), resolve: () => null },
    }),
  })
  const Query = new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: GraphQLString, resolve: () => 'world' },
      user: {
        type: User,
        args: { id: { type: new GraphQLNonNull(GraphQLID) } },
        resolve: async (_root: unknown, args: { id: string }) => {
          await tick()
          return { id: args.id, name: `user ${args.id}` }
        },
      },
      users: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(User))),
        args: { count: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: (_root: unknown, args: { count: number }) =>
          Array.from({ length: args.count }, (_, i) => ({ id: String(i), name: `user ${i}` })),
      },
      fail: {
        type: GraphQLString,
        resolve: async () => {
          throw new Error('resolver failed')
        },
      },
    },
  })
  const Mutation = new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      createOrder: {
        type: GraphQLID,
        args: { item: { type: new GraphQLNonNull(GraphQLString) } },
        resolve: async (_root: unknown, args: { item: string }) => `order-${args.item}`,
      },
    },
  })
  const Subscription = new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      ticks: {
        type: GraphQLInt,
        args: { count: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_root: unknown, args: { count: number }) {
          for (let i = 1; i <= args.count; i++) {
            await tick()
            yield { ticks: i }
          }
        },
      },
    },
  })
  return new GraphQLSchema({ query: Query, mutation: Mutation, subscription: Subscription })
}

/** A query over the fixture schema and the data it returns. */
export const GET_USER = 'query GetUser { user(id: "1") { id name posts { title upperTitle } } }'
export const GET_USER_DATA = {
  user: {
    id: '1',
    name: 'user 1',
    posts: [
      { title: 'post 1 of 1', upperTitle: 'POST 1 OF 1' },
      { title: 'post 2 of 1', upperTitle: 'POST 2 OF 1' },
    ],
  },
}

/** Runs `fn` inside a SERVER-kind span, as an HTTP adapter would. */
export function inServerSpan<R>(fn: () => R): R {
  return trace('POST /graphql', fn, { kind: 1 })
}

/** The tree as `name` lines indented by depth: what a user would compare against the viewer. */
export function shape(nodes: SpanTreeNode[], depth = 0): string[] {
  const lines: string[] = []
  for (const node of nodes) {
    lines.push(`${'  '.repeat(depth)}${node.span.name}`)
    lines.push(...shape(node.children, depth + 1))
  }
  return lines
}

export function exceptionEvents(span: ReadableSpan) {
  return span.events.filter((e) => e.name === 'exception')
}

/** What `scoresSchema`'s asynchronous `Item.score` resolver does next. */
export interface ScoresBehaviour {
  /** Items whose score rejects. */
  failWhen?: (n: number) => boolean
  /** Milliseconds each call waits on a timer (I/O-like); 0: settles at once. */
  waitMs?: number
}

/**
 * `{ items { score } }`: `count` items whose `score` is an asynchronous resolver doing what
 * `behaviour` says at the time of the call — cheap, failing for some items, or slow.
 */
// biome-ignore lint/suspicious/noExplicitAny: the schema is built with graphql 16 or 17 at run time
export function scoresSchema(g: GraphQLModule, count: number, behaviour: ScoresBehaviour): any {
  const { GraphQLSchema, GraphQLObjectType, GraphQLInt, GraphQLList } = g
  const Item = new GraphQLObjectType({
    name: 'Item',
    fields: {
      score: {
        type: GraphQLInt,
        resolve: async (n: number) => {
          if (behaviour.waitMs) await new Promise((resolve) => setTimeout(resolve, behaviour.waitMs))
          if (behaviour.failWhen?.(n)) throw new Error(`no score for ${n}`)
          return n
        },
      },
    },
  })
  const Query = new GraphQLObjectType({
    name: 'Query',
    fields: { items: { type: new GraphQLList(Item), resolve: () => Array.from({ length: count }, (_, i) => i) } },
  })
  return new GraphQLSchema({ query: Query })
}
