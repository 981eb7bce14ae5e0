import { describe, expect, it } from 'vitest'
import { callKey, foldLiterals, graphqlPath, routeOfUrl } from './calls.js'
import { analyzeTrace, type Finding } from './findings.js'
import { get, query, span } from './test-trace.js'
import { buildTree } from './tree.js'

const of = (findings: Finding[], type: Finding['type']) => findings.filter((f) => f.type === type)

describe('N+1 detection', () => {
  it('finds the same query repeated one after another under one parent', () => {
    const spans = [
      span('r', undefined, 'GET /orders', 0, 100, { kind: 'server' }),
      query('list', 'r', 'SELECT orders', 1, 5),
    ]
    for (let i = 0; i < 5; i++) spans.push(query(`q${i}`, 'r', 'SELECT customers', 10 + i * 10, 18 + i * 10))
    const [finding, ...rest] = of(analyzeTrace(buildTree(spans)), 'n-plus-one')
    expect(rest).toEqual([])
    expect(finding).toMatchObject({
      count: 5,
      concurrency: 'sequential',
      parentSpanId: 'r',
      spanIds: ['q0', 'q1', 'q2', 'q3', 'q4'],
    })
    expect(finding!.title).toContain('SELECT customers × 5')
  })

  it('finds concurrent repeats (Promise.all)', () => {
    const spans = [span('r', undefined, 'GET /orders', 0, 100)]
    for (let i = 0; i < 4; i++) spans.push(query(`q${i}`, 'r', 'SELECT customers', 10 + i * 0.1, 30 + i))
    expect(of(analyzeTrace(buildTree(spans)), 'n-plus-one')[0]).toMatchObject({ count: 4, concurrency: 'concurrent' })
  })

  it('is not fooled by pool/connect spans interleaved with or wrapping the queries', () => {
    const spans = [span('r', undefined, 'GET /orders', 0, 200)]
    for (let i = 0; i < 4; i++) {
      spans.push(
        span(`c${i}`, 'r', 'pg.connect', i * 20, i * 20 + 2, {
          kind: 'client',
          attributes: { 'db.system.name': 'postgresql' },
        }),
      )
      spans.push(query(`q${i}`, 'r', 'SELECT customers', i * 20 + 3, i * 20 + 10))
    }
    // two more queries nested under pool checkout spans
    spans.push(span('pool', 'r', 'pg-pool.connect', 100, 150))
    spans.push(query('q4', 'pool', 'SELECT customers', 110, 120))
    spans.push(query('q5', 'pool', 'SELECT customers', 130, 140))
    const found = of(analyzeTrace(buildTree(spans)), 'n-plus-one')
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ count: 6, parentSpanId: 'r' })
  })

  it('does not report fewer repeats than the threshold, nor different queries', () => {
    const spans = [
      span('r', undefined, 'GET /', 0, 100),
      query('a', 'r', 'SELECT a', 0, 1),
      query('b', 'r', 'SELECT a', 2, 3),
    ]
    spans.push(query('c', 'r', 'SELECT b', 4, 5), query('d', 'r', 'SELECT c', 6, 7))
    expect(of(analyzeTrace(buildTree(spans)), 'n-plus-one')).toEqual([])
    expect(of(analyzeTrace(buildTree(spans), { minRepeats: 2 }), 'n-plus-one')).toHaveLength(1)
  })

  it('merges the same repeat under many callers of one kind into one finding', () => {
    const spans = [span('r', undefined, 'POST /import', 0, 1000)]
    for (let p = 0; p < 4; p++) {
      spans.push(span(`row${p}`, 'r', 'parse row', p * 100, p * 100 + 90))
      for (let i = 0; i < 3; i++)
        spans.push(query(`q${p}-${i}`, `row${p}`, 'SELECT products', p * 100 + i * 10, p * 100 + i * 10 + 5))
    }
    const found = of(analyzeTrace(buildTree(spans)), 'n-plus-one')
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ count: 12, parents: 4, parentSpanId: 'row0', concurrency: 'sequential' })
    expect(found[0]!.title).toBe(
      'N+1 query: SELECT products × 3 under parse row (in each of 4 parse row spans, 12 in all)',
    )
  })

  it('keeps repeats under different parents apart', () => {
    const spans = [
      span('r', undefined, 'GET /', 0, 100),
      span('p1', 'r', 'job 1', 0, 40),
      span('p2', 'r', 'job 2', 50, 90),
    ]
    spans.push(
      query('a', 'p1', 'SELECT a', 0, 1),
      query('b', 'p1', 'SELECT a', 2, 3),
      query('c', 'p2', 'SELECT a', 51, 52),
      query('d', 'p2', 'SELECT a', 53, 54),
    )
    expect(of(analyzeTrace(buildTree(spans)), 'n-plus-one')).toEqual([])
  })

  it('finds repeated outgoing calls to one route with different ids', () => {
    const spans = [span('r', undefined, 'GET /cart', 0, 100, { service: 'gateway' })]
    for (let i = 0; i < 3; i++) {
      spans.push(
        span(`h${i}`, 'r', 'GET', i * 10, i * 10 + 8, {
          kind: 'client',
          attributes: {
            'http.request.method': 'GET',
            'url.full': `http://catalog:3000/products/${100 + i}?x=1`,
            'server.address': 'catalog',
          },
        }),
      )
    }
    const [finding] = of(analyzeTrace(buildTree(spans)), 'n-plus-one')
    expect(finding).toMatchObject({ count: 3, concurrency: 'sequential' })
    expect(finding!.title).toContain('GET /products/{id} × 3')
  })

  it('ties per-item GraphQL resolver spans to their field path and the list resolver above them', () => {
    const spans = [
      span('op', undefined, 'query Posts', 0, 100, { service: 'catalog' }),
      span('posts', 'op', 'Query.posts', 1, 10, { attributes: { 'graphql.field.path': 'posts' } }),
      query('list', 'posts', 'SELECT posts', 2, 9),
    ]
    for (let i = 0; i < 5; i++) {
      spans.push(
        span(`res${i}`, 'op', 'Post.author', 11 + i, 30 + i, {
          attributes: { 'graphql.field.path': `posts.${i}.author` },
        }),
      )
      spans.push(query(`q${i}`, `res${i}`, 'SELECT users', 12 + i, 29 + i))
    }
    const [finding, ...rest] = of(analyzeTrace(buildTree(spans)), 'n-plus-one')
    expect(rest).toEqual([])
    expect(finding).toMatchObject({
      count: 5,
      graphqlPath: 'posts.*.author',
      parentSpanId: 'op',
      concurrency: 'concurrent',
    })
    expect(finding!.title).toContain('resolving posts.*.author')
  })

  it('finds queries under one aggregated resolver span (graphql.resolver.count)', () => {
    const spans = [
      span('op', undefined, 'query Users', 0, 100),
      span('agg', 'op', 'User.posts', 5, 90, {
        attributes: { 'graphql.field.path': 'users.*.posts', 'graphql.resolver.count': 20 },
      }),
    ]
    for (let i = 0; i < 20; i++) spans.push(query(`q${i}`, 'agg', 'SELECT posts', 5 + i * 4, 8 + i * 4))
    const [finding] = of(analyzeTrace(buildTree(spans)), 'n-plus-one')
    expect(finding).toMatchObject({ count: 20, graphqlPath: 'users.*.posts', parentSpanId: 'agg', severity: 'high' })
  })
})

describe('sequential calls', () => {
  it('reports sibling client calls that never overlap', () => {
    const spans = [
      span('r', undefined, 'GET /checkout', 0, 100, { kind: 'server' }),
      get('a', 'r', '/cart', 0, 20),
      get('b', 'r', '/prices', 20, 50),
      query('c', 'r', 'SELECT stock', 50, 60),
    ]
    const [finding] = of(analyzeTrace(buildTree(spans)), 'sequential-calls')
    expect(finding).toMatchObject({ spanIds: ['a', 'b', 'c'], parentSpanId: 'r', savingUs: 30_000 })
  })

  it('stays quiet when calls overlap, inside transactions, or saving is tiny', () => {
    const overlap = [span('r', undefined, 'r', 0, 100), get('a', 'r', '/a', 0, 30), get('b', 'r', '/b', 10, 40)]
    expect(of(analyzeTrace(buildTree(overlap)), 'sequential-calls')).toEqual([])
    const tx = [
      span('r', undefined, 'r', 0, 100),
      query('b', 'r', 'BEGIN', 0, 1),
      query('u', 'r', 'UPDATE a', 1, 20),
      query('c', 'r', 'COMMIT', 20, 21),
    ]
    expect(of(analyzeTrace(buildTree(tx)), 'sequential-calls')).toEqual([])
    const tiny = [span('r', undefined, 'r', 0, 100), get('a', 'r', '/a', 0, 0.2), get('b', 'r', '/b', 0.3, 0.5)]
    expect(of(analyzeTrace(buildTree(tiny)), 'sequential-calls')).toEqual([])
  })
})

describe('error root cause', () => {
  it('is the deepest failed span, with the chain of callers it failed', () => {
    const spans = [
      span('r', undefined, 'GET /orders/:id', 0, 100, { service: 'gateway', error: '500' }),
      span('o', 'r', 'GET /orders/:id', 5, 95, { service: 'orders', error: '500' }),
      query('ok', 'o', 'SELECT orders', 6, 10),
      span('q', 'o', 'SELECT stock', 10, 20, {
        service: 'orders',
        error: 'relation does not exist',
        events: [
          {
            name: 'exception',
            timeUs: 19_000,
            attributes: { 'exception.type': 'DatabaseError', 'exception.message': 'relation "stock" does not exist' },
          },
        ],
      }),
    ]
    const [cause] = of(analyzeTrace(buildTree(spans)), 'error-root-cause')
    expect(cause).toMatchObject({ spanIds: ['q', 'o', 'r'], severity: 'high' })
    expect(cause!.title).toBe('Error started in SELECT stock (orders)')
    expect(cause!.detail).toContain('DatabaseError: relation "stock" does not exist')
  })

  it('is absent when nothing failed', () => {
    expect(of(analyzeTrace(buildTree([span('r', undefined, 'r', 0, 1)])), 'error-root-cause')).toEqual([])
  })
})

describe('largest self time', () => {
  it('names the span with the most time outside its children', () => {
    const spans = [span('r', undefined, 'r', 0, 100), span('a', 'r', 'render', 10, 80), span('b', 'a', 'db', 10, 20)]
    const [finding] = of(analyzeTrace(buildTree(spans)), 'largest-self-time')
    expect(finding).toMatchObject({ spanIds: ['a'], totalUs: 60_000 })
  })
})

describe('call keys', () => {
  it('folds literals, ids and list indices', () => {
    expect(foldLiterals("SELECT * FROM t WHERE a = 'x' AND b = 42 AND c = $1")).toBe(
      'SELECT * FROM t WHERE a = ? AND b = ? AND c = ?',
    )
    expect(routeOfUrl('http://h/users/42/orders/0f8fad5b-d9cb-469f-a165-70867728950e?q=1')).toBe(
      '/users/{id}/orders/{id}',
    )
    expect(graphqlPath(span('x', undefined, 'x', 0, 1, { attributes: { 'graphql.field.path': 'a.10.b.2.c' } }))).toBe(
      'a.*.b.*.c',
    )
    expect(callKey(span('x', undefined, 'x', 0, 1))).toBeUndefined()
  })
})
