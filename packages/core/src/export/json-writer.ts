/**
 * Writes JSON text straight into a growable byte buffer. Building a string and encoding it
 * afterwards cost more than the encoding itself (rope flattening, then UTF-8 conversion), and
 * `JSON.stringify` per short string was ~0.5 µs each (measured in bench/export.bench.mjs).
 */

import { type Fragment, fragmentLength, putFragment } from './fragments.js'

const ESCAPES: string[] = []
for (let c = 0; c < 0x20; c++) ESCAPES[c] = `\\u${c.toString(16).padStart(4, '0')}`
ESCAPES[0x08] = '\\b'
ESCAPES[0x09] = '\\t'
ESCAPES[0x0a] = '\\n'
ESCAPES[0x0c] = '\\f'
ESCAPES[0x0d] = '\\r'
ESCAPES[0x22] = '\\"'
ESCAPES[0x5c] = '\\\\'

/** "00" to "99" as ASCII pairs. */
const DIGIT_PAIRS = new Uint8Array(200)
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10)
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10)
}

// hot path: two digits per division (times are 19 digits, written twice per span).
/** `value` (0 <= value < 10^width <= 10^9) as `width` zero-padded digits at `pos`; returns the end. */
export function putPadded(buf: Uint8Array, pos: number, value: number, width: number): number {
  const end = pos + width
  let at = end
  let v = value | 0
  let left = width
  for (; left >= 2; left -= 2) {
    const q = (v / 100) | 0
    const pair = (v - q * 100) << 1
    buf[--at] = DIGIT_PAIRS[pair + 1] as number
    buf[--at] = DIGIT_PAIRS[pair] as number
    v = q
  }
  if (left) buf[--at] = 48 + v
  return end
}

/** A non-negative safe integer (at most 16 digits) in decimal at `pos`; returns the end. */
export function putDigits(buf: Uint8Array, pos: number, value: number): number {
  if (value >= 1e9) {
    // split so every step is 32-bit integer arithmetic
    const high = Math.floor(value / 1e9)
    return putPadded(buf, putDigits(buf, pos, high), value - high * 1e9, 9)
  }
  let width = 1
  for (let t = value; t >= 10; t = (t / 10) | 0) width++
  return putPadded(buf, pos, value, width)
}

export class JsonWriter {
  buf: Buffer
  /** `buf` as a DataView, for word-sized copies. */
  view: DataView
  pos = 0

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize)
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  }

  private use(buf: Buffer): void {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  reset(): void {
    this.pos = 0
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    const pos = this.pos
    const buf = this.buf
    // Large output: hand over the buffer itself and start the next document in a fresh one of
    // the same size, instead of copying every byte (the copy was a fifth of a 512-span batch).
    // Slack past `pos` is only kept while the caller holds the bytes.
    if (pos >= 16 * 1024 && pos >= buf.length >>> 1) {
      // the next document is likely the same size: room for it and a quarter more, not the doubled size
      this.use(Buffer.allocUnsafe(pos + (pos >>> 2)))
      this.pos = 0
      return buf.subarray(0, pos)
    }
    // allocUnsafe: no zero-filling of a buffer we overwrite entirely
    const out = Buffer.allocUnsafe(pos)
    buf.copy(out, 0, 0, pos)
    return out
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + bytes) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.use(next)
  }

  /** Text known to be ASCII and valid JSON as is: punctuation, field names, hex ids, numbers. */
  raw(text: string): void {
    const length = text.length
    this.ensure(length)
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < length; i++) buf[pos++] = text.charCodeAt(i)
    this.pos = pos
  }

  /** One ASCII byte (punctuation). */
  byte(code: number): void {
    if (this.pos >= this.buf.length) this.ensure(1)
    this.buf[this.pos++] = code
  }

  /** A pre-encoded fragment (literal field names, cached keys and attributes). */
  fragment(f: Fragment): void {
    this.ensure(fragmentLength(f) + 3)
    this.pos = putFragment(this.buf, this.view, this.pos, f)
  }

  /** A non-negative safe integer in decimal, without building a string. */
  digits(value: number): void {
    this.ensure(16)
    this.pos = putDigits(this.buf, this.pos, value)
  }

  // hot path: most strings are short ASCII without escapes; they are copied byte by byte.
  /** A JSON string literal, quoted and escaped (RFC 8259 §7). */
  string(value: string): void {
    const length = value.length
    this.ensure(length * 6 + 2)
    const buf = this.buf
    let pos = this.pos
    buf[pos++] = 0x22
    for (let i = 0; i < length; i++) {
      const c = value.charCodeAt(i)
      if (c >= 0x80) {
        // non-ASCII: JSON.stringify escapes lone surrogates; the rest is written as UTF-8
        const rest = JSON.stringify(value.slice(i))
        this.ensure(pos - this.pos + rest.length * 3)
        pos += this.buf.write(rest.slice(1), pos, 'utf8')
        this.pos = pos
        return
      }
      if (c < 0x20 || c === 0x22 || c === 0x5c) {
        const sequence = ESCAPES[c] as string
        for (let j = 0; j < sequence.length; j++) buf[pos++] = sequence.charCodeAt(j)
      } else buf[pos++] = c
    }
    buf[pos++] = 0x22
    this.pos = pos
  }
}
