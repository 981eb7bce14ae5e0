import { describe, expect, it } from 'vitest'
import { criticalPath } from './critical-path.js'
import { span } from './test-trace.js'
import { buildTree } from './tree.js'

const ms = (segments: { spanId: string; startUs: number; endUs: number }[]) =>
  segments.map((s) => `${s.spanId}:${s.startUs / 1000}-${s.endUs / 1000}`)

describe('criticalPath', () => {
  it('follows the child the parent waited for and gives the gaps to the parent', () => {
    // root 0-100; a 10-40 and b 20-80 run together (b finishes last, a covers the wait before b starts); c 85-95 after
    const tree = buildTree([
      span('r', undefined, 'root', 0, 100),
      span('a', 'r', 'a', 10, 40),
      span('b', 'r', 'b', 20, 80),
      span('b1', 'b', 'b1', 30, 70),
      span('c', 'r', 'c', 85, 95),
    ])
    const path = criticalPath(tree)
    expect(ms(path.segments)).toEqual([
      'r:0-10',
      'a:10-20',
      'b:20-30',
      'b1:30-70',
      'b:70-80',
      'r:80-85',
      'c:85-95',
      'r:95-100',
    ])
    expect(path.spanIds.has('c')).toBe(true)
    const covered = path.segments.reduce((sum, s) => sum + s.endUs - s.startUs, 0)
    expect(covered).toBe(100_000)
  })

  it('clips a child that outlives its parent', () => {
    const tree = buildTree([span('r', undefined, 'root', 0, 50), span('x', 'r', 'async', 10, 200)])
    expect(ms(criticalPath(tree).segments)).toEqual(['r:0-10', 'x:10-50'])
  })

  it('picks the longest root and is empty for an empty trace', () => {
    const tree = buildTree([span('r1', undefined, 'short', 0, 5), span('r2', undefined, 'long', 0, 50)])
    expect(ms(criticalPath(tree).segments)).toEqual(['r2:0-50'])
    expect(criticalPath(buildTree([])).segments).toEqual([])
  })
})
