import { describe, expect, it } from 'vitest'
import { median } from './fields.js'

/** The median of every value, written out: what `median` must match without sorting the fills. */
function bruteMedian(values: number[], fillA: number, countA: number, fillB: number, countB: number): number {
  const all = [...values, ...Array(countA).fill(fillA), ...Array(countB).fill(fillB)].sort((a, b) => a - b)
  if (all.length === 0) return 0
  const mid = all.length >> 1
  return all.length % 2 ? all[mid] : (all[mid - 1] + all[mid]) / 2
}

describe('median of timed durations and untimed calls counted at a mean', () => {
  it('handles no values, timed values only, and fills only', () => {
    expect(median(undefined, 0, 0, 0, 0)).toBe(0)
    expect(median([3, 1, 2], 0, 0, 0, 0)).toBe(2)
    expect(median([4, 1, 3, 2], 0, 0, 0, 0)).toBe(2.5)
    expect(median(undefined, 0.2, 3, 0, 0)).toBe(0.2)
    expect(median([10], 1, 3, 0, 0)).toBe(1)
    expect(median([5, 100], 2, 1, 50, 2)).toBe(50)
  })

  it('matches the median of every value written out', () => {
    let seed = 7
    const random = () => {
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    }
    for (let run = 0; run < 500; run++) {
      const values = Array.from({ length: Math.floor(random() * 12) }, () => Math.round(random() * 20) / 4)
      const [fillA, fillB] = [Math.round(random() * 20) / 4, Math.round(random() * 20) / 4]
      const [countA, countB] = [Math.floor(random() * 6), Math.floor(random() * 6)]
      expect(median(values, fillA, countA, fillB, countB)).toBe(bruteMedian(values, fillA, countA, fillB, countB))
    }
  })
})
