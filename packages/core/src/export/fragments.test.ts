import { describe, expect, it } from 'vitest'
import { fragment, fragmentBytes, fragmentLength, putFragment, putLatin1, putRepeat } from './fragments.js'

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff)

describe('fragments', () => {
  it('copies fragments of every length (word copies and long copies) intact after the tables grow', () => {
    // more fragments and bytes than the initial tables and arena hold
    const made = Array.from({ length: 1200 }, (_, i) => ({ f: fragment(bytesOf(i % 90, i)), n: i % 90, seed: i }))
    const out = new Uint8Array(200)
    const view = new DataView(out.buffer)
    for (const { f, n, seed } of made) {
      out.fill(0xee)
      expect(fragmentLength(f)).toBe(n)
      expect(putFragment(out, view, 5, f)).toBe(5 + n)
      expect(out.subarray(5, 5 + n)).toEqual(bytesOf(n, seed))
      expect(fragmentBytes(f)).toEqual(bytesOf(n, seed))
      expect(out[4]).toBe(0xee) // nothing before the position is touched
    }
  })

  it('keeps its own copy of the bytes it was given', () => {
    const source = Uint8Array.from([1, 2, 3, 4, 5])
    const f = fragment(source)
    source.fill(9)
    const out = new Uint8Array(16)
    putFragment(out, new DataView(out.buffer), 0, f)
    expect([...out.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5])
  })

  it('writes one-byte strings and repeats earlier bytes, whatever the length', () => {
    const out = new Uint8Array(128)
    const view = new DataView(out.buffer)
    for (let n = 0; n <= 33; n++) {
      const text = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, n)
      const end = putLatin1(view, 1, text)
      expect(end).toBe(1 + n)
      expect(Buffer.from(out.subarray(1, end)).toString('latin1')).toBe(text)
      expect(putRepeat(view, 60, 1, n)).toBe(60 + n)
      expect(Buffer.from(out.subarray(60, 60 + n)).toString('latin1')).toBe(text)
    }
  })
})
