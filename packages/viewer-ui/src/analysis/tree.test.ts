import { describe, expect, it } from 'vitest'
import { fromStored } from './span.js'
import { traceStats } from './stats.js'
import { span } from './test-trace.js'
import { ancestors, buildTree, flatten } from './tree.js'

describe('buildTree', () => {
  const spans = [
    span('c', 'a', 'child 2', 50, 90),
    span('a', undefined, 'root', 0, 100),
    span('b', 'a', 'child 1', 10, 40),
    span('d', 'b', 'grandchild', 20, 30),
    span('o', 'missing', 'orphan', 5, 6),
  ]
  const tree = buildTree(spans)

  it('orders children by start and makes spans with unknown parents roots', () => {
    expect(tree.roots.map((s) => s.spanId)).toEqual(['a', 'o'])
    expect(flatten(tree).map((s) => s.spanId)).toEqual(['a', 'b', 'd', 'c', 'o'])
    expect(tree.depth.get('d')).toBe(2)
    expect(tree.startUs).toBe(0)
    expect(tree.endUs).toBe(100_000)
  })

  it('computes self time as the time no child covers', () => {
    expect(tree.selfUs.get('a')).toBe(30_000)
    expect(tree.selfUs.get('b')).toBe(20_000)
    expect(tree.selfUs.get('d')).toBe(10_000)
  })

  it('counts overlapping children once and clips children that outlive the parent', () => {
    const t = buildTree([span('p', undefined, 'p', 0, 100), span('x', 'p', 'x', 10, 60), span('y', 'p', 'y', 40, 150)])
    expect(t.selfUs.get('p')).toBe(10_000)
  })

  it('hides collapsed subtrees and lists ancestors', () => {
    expect(flatten(tree, new Set(['b'])).map((s) => s.spanId)).toEqual(['a', 'b', 'c', 'o'])
    expect(ancestors(tree, tree.byId.get('d')!).map((s) => s.spanId)).toEqual(['b', 'a'])
  })

  it('survives duplicates, self-parents and cycles', () => {
    const t = buildTree([
      span('a', 'b', 'a', 0, 10),
      span('b', 'a', 'b', 0, 10),
      span('s', 's', 'self', 0, 1),
      span('s', 's', 'self again', 0, 1),
    ])
    expect(t.spans).toHaveLength(3)
    expect(flatten(t).map((s) => s.spanId)).toEqual(['s'])
    expect(ancestors(t, t.byId.get('a')!).map((s) => s.spanId)).toEqual(['b'])
  })

  it('handles a 10,000-deep chain without recursion', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) =>
      span(`s${i}`, i ? `s${i - 1}` : undefined, 'n', i, 20_000 - i),
    )
    const t = buildTree(chain)
    expect(t.depth.get('s9999')).toBe(9999)
    expect(flatten(t)).toHaveLength(10_000)
  })
})

describe('fromStored', () => {
  it('adapts the API span shape', () => {
    const s = fromStored({
      traceId: 't',
      spanId: 's',
      parentSpanId: '',
      name: 'GET /',
      kind: 'SERVER',
      service: 'web',
      startUs: 1000,
      durationUs: 250,
      error: true,
      attributes: { a: 1 },
    })
    expect(s).toMatchObject({
      parentSpanId: undefined,
      kind: 'server',
      endUs: 1250,
      status: { code: 'ERROR' },
      events: [],
    })
  })
})

describe('traceStats', () => {
  it('sums count, total and self time per service and operation', () => {
    const tree = buildTree([
      span('a', undefined, 'GET /', 0, 100, { service: 'web' }),
      span('b', 'a', 'SELECT', 10, 30, { service: 'db' }),
      span('c', 'a', 'SELECT', 40, 50, { service: 'db', error: 'x' }),
    ])
    const { services, operations } = traceStats(tree)
    expect(services).toEqual([
      {
        service: 'web',
        operation: undefined,
        count: 1,
        errorCount: 0,
        totalUs: 100_000,
        selfUs: 70_000,
        maxUs: 100_000,
      },
      { service: 'db', operation: undefined, count: 2, errorCount: 1, totalUs: 30_000, selfUs: 30_000, maxUs: 20_000 },
    ])
    expect(operations.find((o) => o.operation === 'SELECT')).toMatchObject({ count: 2, totalUs: 30_000 })
  })
})
