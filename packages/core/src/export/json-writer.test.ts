import { describe, expect, it } from 'vitest'
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

  it('copies fragments longer than the inline-copy threshold intact', () => {
    const w = new JsonWriter(16)
    const long = Buffer.from(`{"key":"${'k'.repeat(100)}"}`)
    w.bytes(long)
    w.bytes(long)
    expect(Buffer.from(w.finish()).toString()).toBe(long.toString().repeat(2))
  })
})
