import { describe, expect, it } from 'vitest'
import { compareTraces } from './compare.js'
import { span } from './test-trace.js'
import { buildTree } from './tree.js'

describe('compareTraces', () => {
  it('aligns by structure and marks slower, faster, added and removed spans', () => {
    const a = buildTree([
      span('r', undefined, 'GET /orders', 0, 100),
      span('q1', 'r', 'SELECT orders', 0, 10),
      span('q2', 'r', 'SELECT items', 10, 20),
      span('h', 'r', 'GET /price', 20, 30),
    ])
    const b = buildTree([
      span('R', undefined, 'GET /orders', 0, 300),
      span('Q1', 'R', 'SELECT orders', 0, 10),
      span('Q2', 'R', 'SELECT items', 10, 200),
      span('C', 'R', 'cache get', 200, 201),
    ])
    const rows = compareTraces(a, b)
    expect(rows.map((r) => [r.depth, r.name, r.change])).toEqual([
      [0, 'GET /orders', 'slower'],
      [1, 'SELECT orders', 'same'],
      [1, 'SELECT items', 'slower'],
      [1, 'GET /price', 'removed'],
      [1, 'cache get', 'added'],
    ])
    expect(rows[2]!.deltaUs).toBe(180_000)
  })

  it('matches repeated siblings by their position', () => {
    const a = buildTree([span('r', undefined, 'r', 0, 10), span('x1', 'r', 'x', 0, 1), span('x2', 'r', 'x', 1, 2)])
    const b = buildTree([span('r', undefined, 'r', 0, 10), span('y1', 'r', 'x', 0, 1)])
    expect(compareTraces(a, b).map((r) => r.change)).toEqual(['same', 'same', 'removed'])
  })
})
