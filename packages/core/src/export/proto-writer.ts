import { type Fragment, fragmentLength, putFragment } from './fragments.js'
import { writeNanosLE } from './nanos.js'

/** Protobuf wire types (protobuf encoding spec §Message structure). */
export const WIRE_VARINT = 0
export const WIRE_I64 = 1
export const WIRE_LEN = 2
export const WIRE_I32 = 5

/** Hex digit values by character code (-1 for other characters). */
export const HEX: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) table[48 + i] = i
  for (let i = 0; i < 6; i++) {
    table[65 + i] = 10 + i
    table[97 + i] = 10 + i
  }
  return table
})()

/**
 * A growable protobuf writer. Length-delimited fields are written in place: `fork` reserves
 * length bytes (one unless told more), `join` writes the varint there and, when it needs more or
 * fewer bytes than reserved, moves the body (one memmove, instead of sizing every message in a
 * first pass).
 */
export class ProtoWriter {
  buf: Buffer
  /** `buf` as a DataView, for word-sized copies. */
  view: DataView
  pos = 0

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize)
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    // allocUnsafe: no zero-filling of a buffer we overwrite entirely
    const out = Buffer.allocUnsafe(this.pos)
    this.buf.copy(out, 0, 0, this.pos)
    return out
  }

  reset(): void {
    this.pos = 0
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + bytes) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }

  /** A pre-encoded fragment (cached keys and attributes). */
  fragment(f: Fragment): void {
    this.ensure(fragmentLength(f) + 3)
    this.pos = putFragment(this.buf, this.view, this.pos, f)
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(value: number): void {
    this.ensure(10)
    const buf = this.buf
    let pos = this.pos
    while (value > 0x7fffffff) {
      buf[pos++] = (value % 128) | 0x80
      value = Math.floor(value / 128)
    }
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80
      value >>>= 7
    }
    buf[pos++] = value
    this.pos = pos
  }

  tag(field: number, wire: number): void {
    const tag = field * 8 + wire
    if (tag < 0x80) {
      this.ensure(1)
      this.buf[this.pos++] = tag
    } else this.varint(tag)
  }

  /** Pre-encoded bytes (cached fields). */
  bytes(bytes: Uint8Array): void {
    const length = bytes.length
    this.ensure(length)
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < length; i++) buf[pos++] = bytes[i] as number
    this.pos = pos
  }

  /** int64 as a varint: negative values take ten bytes (two's complement). */
  int64(value: number): void {
    if (value >= 0) {
      this.varint(value)
      return
    }
    let v = BigInt.asUintN(64, BigInt(value))
    this.ensure(10)
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buf[this.pos++] = Number(v)
  }

  fixed32(value: number): void {
    this.ensure(4)
    this.buf.writeUInt32LE(value >>> 0, this.pos)
    this.pos += 4
  }

  double(value: number): void {
    this.ensure(8)
    this.buf.writeDoubleLE(value, this.pos)
    this.pos += 8
  }

  /** A span time as fixed64 epoch nanoseconds. */
  nanos(time: number): void {
    this.ensure(8)
    writeNanosLE(this.buf, this.pos, time)
    this.pos += 8
  }

  // hot path: span and attribute names are short ASCII; a byte loop beats Buffer#write for them.
  string(value: string): void {
    const length = value.length
    if (length < 43) {
      // at most 126 UTF-8 bytes: the length fits in one byte
      this.ensure(1 + length * 3)
      const buf = this.buf
      const start = this.pos + 1
      let pos = start
      let i = 0
      for (; i < length; i++) {
        const c = value.charCodeAt(i)
        if (c >= 0x80) break
        buf[pos++] = c
      }
      if (i < length) pos += buf.write(i === 0 ? value : value.slice(i), pos, 'utf8')
      buf[start - 1] = pos - start
      this.pos = pos
      return
    }
    const bytes = Buffer.byteLength(value, 'utf8')
    this.varint(bytes)
    this.ensure(bytes)
    this.buf.write(value, this.pos, 'utf8')
    this.pos += bytes
  }

  /** A lower-case or upper-case hex id as raw bytes (trace and span ids). */
  hexBytes(hex: string): void {
    const bytes = hex.length >>> 1
    this.ensure(1 + bytes)
    const buf = this.buf
    let pos = this.pos
    buf[pos++] = bytes
    for (let i = 0; i < bytes; i++) {
      const hi = HEX[hex.charCodeAt(2 * i) & 0x7f] as number
      const lo = HEX[hex.charCodeAt(2 * i + 1) & 0x7f] as number
      buf[pos++] = ((hi & 0xf) << 4) | (lo & 0xf)
    }
    this.pos = pos
  }

  rawBytes(bytes: Uint8Array): void {
    this.varint(bytes.length)
    this.ensure(bytes.length)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /**
   * Starts a length-delimited field; returns a token for `join` (the body's start and the bytes
   * reserved). Reserve 2 for messages usually 128 bytes to 16 KiB long (spans), 3 for ones up to
   * 2 MiB (a batch), so that `join` moves no bytes for them.
   */
  fork(field: number, reserve = 1): number {
    this.tag(field, WIRE_LEN)
    this.ensure(reserve)
    this.pos += reserve
    return this.pos * 4 + reserve
  }

  /** Ends the length-delimited field started by `fork`. */
  join(started: number): void {
    const reserved = started % 4
    const start = (started - reserved) / 4
    const length = this.pos - start
    if (length < 0x80 && reserved === 1) {
      this.buf[start - 1] = length
      return
    }
    let width = 1
    for (let v = length >>> 7; v > 0; v >>>= 7) width++
    const shift = width - reserved
    if (shift !== 0) {
      if (shift > 0) this.ensure(shift)
      this.buf.copyWithin(start + shift, start, this.pos)
      this.pos += shift
    }
    const buf = this.buf
    let pos = start - reserved
    let v = length
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[pos] = v
  }
}
