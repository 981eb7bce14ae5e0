import { describe, expect, it } from 'vitest'
import { textFragment } from './fragments.js'
import { JsonWriter } from './json-writer.js'

function document(w: JsonWriter, fill: string, count: number): void {
  w.reset()
  w.byte(0x5b)
  for (let i = 0; i < count; i++) {
    if (i) w.byte(0x2c)
    w.string(fill)
  }
  w.byte(0x5d)
}

describe('JsonWriter.finish', () => {
  it('returns bytes the next document does not overwrite (small and large documents)', () => {
    for (const count of [3, 6000]) {
      const w = new JsonWriter(1024)
      document(w, 'a"\u00e9', count)
      const first = w.finish()
      const expected = JSON.stringify(Array.from({ length: count }, () => 'a"\u00e9'))
      expect(Buffer.from(first).toString('utf8')).toBe(expected)
      document(w, 'zzzz', count)
      const second = w.finish()
      expect(Buffer.from(first).toString('utf8')).toBe(expected)
      expect(Buffer.from(second).toString('utf8')).toBe(JSON.stringify(Array.from({ length: count }, () => 'zzzz')))
    }
  })

  it('copies fragments of every length intact, with room past the end of the buffer', () => {
    const fragments = Array.from({ length: 70 }, (_, n) => textFragment('é"{}'.repeat(n).slice(0, n)))
    const w = new JsonWriter(16)
    let expected = ''
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < fragments.length; n++) {
        w.fragment(fragments[n] as number)
        expected += 'é"{}'.repeat(n).slice(0, n)
        w.byte(0x2c)
        expected += ','
      }
    }
    expect(Buffer.from(w.finish()).toString()).toBe(expected)
  })
})
