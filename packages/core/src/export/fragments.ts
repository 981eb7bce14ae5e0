/**
 * Fragments: bytes the OTLP encoders write over and over (field names, attribute keys, whole
 * attributes with their values), encoded once and copied into every document. Per copy into a
 * document on the reference machine: a byte loop ~0.9 ns a byte; DataView 32-bit words ~8 ns for
 * 16 bytes, ~25 ns for 60; `Uint8Array#set` ~17 ns whatever the length. So short fragments are
 * copied as words from one arena, long ones with `set`.
 *
 * A fragment is a small integer naming one; the tables only grow, as the encoders' caches
 * (bounded in entries and in fragment size) fill.
 */

import type { AttributeValue } from '../span.js'

export type Fragment = number

/** Fragments at least this long are copied with `Uint8Array#set`. */
const SET_FROM = 40

let arena = new Uint8Array(16 * 1024)
let arenaView = new DataView(arena.buffer)
let used = 0
let starts: Int32Array = new Int32Array(256)
let lengths: Int32Array = new Int32Array(256)
const arrays: Uint8Array[] = []

/** Stores `bytes` as a fragment. */
export function fragment(bytes: Uint8Array): Fragment {
  const length = bytes.length
  const f = arrays.length
  if (f === starts.length) {
    starts = grow(starts)
    lengths = grow(lengths)
  }
  // a private copy: `bytes` may be a view into a buffer its writer reuses
  const own = new Uint8Array(length)
  own.set(bytes)
  arrays.push(own)
  lengths[f] = length
  if (length < SET_FROM) {
    // the bytes, and 3 bytes of slack that the last word of a copy reads
    const needed = used + length + 3
    if (needed > arena.length) {
      const next = new Uint8Array(Math.max(needed, arena.length * 2))
      next.set(arena.subarray(0, used))
      arena = next
      arenaView = new DataView(next.buffer)
    }
    arena.set(bytes, used)
    starts[f] = used
    used += length
  }
  return f
}

function grow(table: Int32Array): Int32Array {
  const next = new Int32Array(table.length * 2)
  next.set(table)
  return next
}

/** A fragment of `text`'s UTF-8 bytes (literal JSON and protobuf pieces, made at module load). */
export function textFragment(text: string): Fragment {
  return fragment(Buffer.from(text, 'utf8'))
}

export function fragmentLength(f: Fragment): number {
  return lengths[f] as number
}

/** The bytes of a fragment. */
export function fragmentBytes(f: Fragment): Uint8Array {
  return arrays[f] as Uint8Array
}

// hot path: every cached key, attribute and field name is copied through here.
/**
 * Copies fragment `f` into `out` (`view` is the same memory as a DataView) at `pos` and returns
 * the end. Short fragments are copied in whole words, so up to 3 bytes past the end are
 * overwritten too: `out` must have room for the length plus 3.
 */
export function putFragment(out: Uint8Array, view: DataView, pos: number, f: Fragment): number {
  const length = lengths[f] as number
  const end = pos + length
  if (length >= SET_FROM) {
    out.set(arrays[f] as Uint8Array, pos)
    return end
  }
  const from = arenaView
  for (let at = starts[f] as number; pos < end; pos += 4, at += 4) view.setUint32(pos, from.getUint32(at, true), true)
  return end
}

/**
 * Copies `length` bytes of `out` from `from` to `pos` (an id written earlier in the same
 * document; the two ranges do not overlap), by words: room for the length plus 3 is needed.
 */
export function putRepeat(out: DataView, pos: number, from: number, length: number): number {
  const end = pos + length
  for (; pos < end; pos += 4, from += 4) out.setUint32(pos, out.getUint32(from, true), true)
  return end
}

/**
 * Writes a string known to hold only one-byte characters (hex ids, field names) at `pos`, four
 * characters per word: room for its length plus 3 is needed. Characters above 0xff are truncated.
 */
export function putLatin1(out: DataView, pos: number, text: string): number {
  const length = text.length
  const end = pos + length
  let i = 0
  for (; i + 4 <= length; i += 4, pos += 4) {
    out.setUint32(
      pos,
      (text.charCodeAt(i) & 0xff) |
        ((text.charCodeAt(i + 1) & 0xff) << 8) |
        ((text.charCodeAt(i + 2) & 0xff) << 16) |
        ((text.charCodeAt(i + 3) & 0xff) << 24),
      true,
    )
  }
  for (; i < length; i++) out.setUint8(pos++, text.charCodeAt(i) & 0xff)
  return end
}

/** One attribute key's fragments: the key encoded once, and whole key/value pairs by value. */
export interface KeyFragments {
  key: Fragment
  pairs: Map<AttributeValue, Fragment>
}

const KEY_LIMIT = 4096
const MAX_CACHED_KEY = 256
const PAIR_LIMIT = 8192
const PAIRS_PER_KEY = 64
const MAX_CACHED_VALUE = 256

/**
 * Per attribute key, its encoding once (keys repeat across spans), and whole key/value pairs for
 * short string, safe-integer and boolean values (methods, routes, db systems, query texts, ports,
 * status codes repeat too); one map lookup finds both. Bounded in keys, in values per key and in
 * values overall, so high-cardinality values (paths, ids) stop being cached once their key is full.
 * Each encoder keeps one, with its own encodings.
 */
export class AttributeFragments {
  private readonly keys = new Map<string, KeyFragments>()
  private pairCount = 0

  constructor(
    private readonly encodeKey: (key: string) => Uint8Array,
    private readonly encodePair: (key: Fragment, value: AttributeValue) => Uint8Array,
  ) {}

  /** The fragments of `key`, or undefined for a key that is not cached (too long, cache full). */
  entry(key: string): KeyFragments | undefined {
    const entry = this.keys.get(key)
    if (entry !== undefined || this.keys.size >= KEY_LIMIT || key.length > MAX_CACHED_KEY) return entry
    const created: KeyFragments = { key: fragment(this.encodeKey(key)), pairs: new Map() }
    this.keys.set(key, created)
    return created
  }

  /** The whole pair for `value`, encoded now if it may be cached; undefined if it may not. */
  pair(entry: KeyFragments, value: AttributeValue): Fragment | undefined {
    const cached = entry.pairs.get(value)
    if (cached !== undefined) return cached
    if (this.pairCount >= PAIR_LIMIT || entry.pairs.size >= PAIRS_PER_KEY) return undefined
    const type = typeof value
    const cacheable =
      type === 'string'
        ? (value as string).length <= MAX_CACHED_VALUE
        : type === 'number'
          ? Number.isSafeInteger(value)
          : type === 'boolean'
    if (!cacheable) return undefined
    const f = fragment(this.encodePair(entry.key, value))
    entry.pairs.set(value, f)
    this.pairCount++
    return f
  }
}
