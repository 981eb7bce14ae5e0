/**
 * Writes JSON text straight into a growable byte buffer. Building a string and encoding it
 * afterwards cost more than the encoding itself (rope flattening, then UTF-8 conversion), and
 * `JSON.stringify` per short string was ~0.5 µs each (measured in bench/export.bench.mjs).
 */

const ESCAPES: string[] = []
for (let c = 0; c < 0x20; c++) ESCAPES[c] = `\\u${c.toString(16).padStart(4, '0')}`
ESCAPES[0x08] = '\\b'
ESCAPES[0x09] = '\\t'
ESCAPES[0x0a] = '\\n'
ESCAPES[0x0c] = '\\f'
ESCAPES[0x0d] = '\\r'
ESCAPES[0x22] = '\\"'
ESCAPES[0x5c] = '\\\\'

/** UTF-8 bytes of a literal JSON fragment, made once at module load. */
export function literal(text: string): Uint8Array {
  return Buffer.from(text, 'utf8')
}

export class JsonWriter {
  buf: Buffer
  pos = 0

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize)
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
      this.buf = Buffer.allocUnsafe(buf.length)
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
    this.buf = next
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

  /** Pre-encoded bytes (literal fragments, cached keys). */
  bytes(bytes: Uint8Array): void {
    const length = bytes.length
    this.ensure(length)
    const buf = this.buf
    let pos = this.pos
    // a native copy beats the loop once past a few dozen bytes (cached attribute pairs)
    if (length > 48) {
      buf.set(bytes, pos)
      this.pos = pos + length
      return
    }
    for (let i = 0; i < length; i++) buf[pos++] = bytes[i] as number
    this.pos = pos
  }

  /** A non-negative safe integer in decimal, without building a string. */
  digits(value: number): void {
    if (value >= 1e8) {
      // split so every step is 32-bit integer arithmetic
      const high = Math.floor(value / 1e8)
      this.digits(high)
      this.paddedDigits(value - high * 1e8, 8)
      return
    }
    this.ensure(8)
    const buf = this.buf
    let v = value | 0
    let count = 1
    for (let t = v; t >= 10; t = (t / 10) | 0) count++
    let pos = this.pos + count
    this.pos = pos
    do {
      const q = (v / 10) | 0
      buf[--pos] = 48 + v - q * 10
      v = q
    } while (v > 0)
  }

  /** `value` as exactly `width` decimal digits, zero-padded (0 <= value < 10^width <= 10^9). */
  paddedDigits(value: number, width: number): void {
    this.ensure(width)
    const buf = this.buf
    let pos = this.pos + width
    this.pos = pos
    let v = value | 0
    for (let i = 0; i < width; i++) {
      const q = (v / 10) | 0
      buf[--pos] = 48 + v - q * 10
      v = q
    }
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
