import type { TraceState } from '../span.js'

/** W3C trace-context §3.3.1.1: at most 32 list members. */
export const MAX_TRACESTATE_MEMBERS = 32
/** W3C trace-context §3.3.1.5: vendors propagate at least 512 characters; we send at most that. */
export const MAX_TRACESTATE_LENGTH = 512
/** §3.3.1.5: entries longer than this are the first to go when truncating. */
const LARGE_ENTRY = 128
// 32 members of 256 + "=" + 256 chars and their commas is 16447; anything much longer is abuse.
const MAX_INPUT_LENGTH = 32_768

const SP = 0x20
const HTAB = 0x09
const COMMA = 0x2c
const EQUALS = 0x3d
const AT = 0x40

function isLcAlphaOrDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
}

// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" (and "@" once, for multi-tenant keys)
function isKeyChar(c: number): boolean {
  return isLcAlphaOrDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f
}

/**
 * W3C trace-context §3.3.1.3.1. `key = (lcalpha / DIGIT) 0*255(keychar)`; a multi-tenant key
 * `tenant@system` (level 1 grammar) keeps its limits: tenant 1-241 chars starting with lcalpha or
 * DIGIT, system 1-14 chars starting with lcalpha, one "@" only.
 */
function isValidKeyRange(s: string, start: number, end: number): boolean {
  const length = end - start
  if (length < 1 || length > 256) return false
  if (!isLcAlphaOrDigit(s.charCodeAt(start))) return false
  let at = -1
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === AT) {
      if (at >= 0) return false
      at = i
    } else if (!isKeyChar(c)) return false
  }
  if (at < 0) return true
  const tenant = at - start
  const system = end - at - 1
  if (tenant > 241 || system < 1 || system > 14) return false
  const first = s.charCodeAt(at + 1)
  return first >= 0x61 && first <= 0x7a
}

/** §3.3.1.3.2: `value = 0*255(chr) nblk-chr`, chr = %x20-7E except "," and "=". */
function isValidValueRange(s: string, start: number, end: number): boolean {
  const length = end - start
  if (length < 1 || length > 256) return false
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c < SP || c > 0x7e || c === COMMA || c === EQUALS) return false
  }
  return s.charCodeAt(end - 1) !== SP
}

export function isValidTraceStateKey(key: string): boolean {
  return typeof key === 'string' && isValidKeyRange(key, 0, key.length)
}

export function isValidTraceStateValue(value: string): boolean {
  return typeof value === 'string' && isValidValueRange(value, 0, value.length)
}

/**
 * An immutable W3C `tracestate` (trace-context §3.3): ordered vendor entries, the most recently
 * updated first. Built by `parseTraceState` or `createTraceState`; `set` returns a new state.
 */
class W3CTraceState implements TraceState {
  /** Keys and values in header order (left = most recent). */
  private readonly keys: readonly string[]
  private readonly values: readonly string[]
  /** The serialized form, computed once (the received header itself when it was canonical). */
  private serialized: string | undefined

  constructor(keys: readonly string[], values: readonly string[], serialized?: string) {
    this.keys = keys
    this.values = values
    this.serialized = serialized
  }

  get(key: string): string | undefined {
    const i = this.keys.indexOf(key)
    return i < 0 ? undefined : this.values[i]
  }

  /** Adds or updates an entry; it moves to the front (§3.5). Invalid keys or values leave the state unchanged. */
  set(key: string, value: string): TraceState {
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(value)) return this
    const i = this.keys.indexOf(key)
    if (i < 0 && this.keys.length >= MAX_TRACESTATE_MEMBERS) {
      // Full: the new entry goes in front and the right-most one is dropped (§3.3.1.5).
      return new W3CTraceState([key, ...this.keys.slice(0, -1)], [value, ...this.values.slice(0, -1)])
    }
    const keys = [key]
    const values = [value]
    for (let j = 0; j < this.keys.length; j++) {
      if (j === i) continue
      keys.push(this.keys[j] as string)
      values.push(this.values[j] as string)
    }
    return new W3CTraceState(keys, values)
  }

  unset(key: string): TraceState {
    const i = this.keys.indexOf(key)
    if (i < 0) return this
    return new W3CTraceState(
      this.keys.filter((_, j) => j !== i),
      this.values.filter((_, j) => j !== i),
    )
  }

  /** The header value: at most 512 characters, whole entries dropped per §3.3.1.5 when longer. */
  serialize(): string {
    if (this.serialized === undefined) this.serialized = serializeMembers(this.keys, this.values)
    return this.serialized
  }

  /** The entries in order (for tests and exporters). */
  entries(): Array<[string, string]> {
    return this.keys.map((k, i) => [k, this.values[i] as string])
  }
}

function serializeMembers(keys: readonly string[], values: readonly string[]): string {
  const members = keys.map((k, i) => `${k}=${values[i]}`)
  let length = members.length - 1
  for (const m of members) length += m.length
  if (length <= MAX_TRACESTATE_LENGTH) return members.join(',')
  // §3.3.1.5: drop entries over 128 chars first (right-most first), then from the right.
  for (let i = members.length - 1; i >= 0 && length > MAX_TRACESTATE_LENGTH; i--) {
    const m = members[i] as string
    if (m.length > LARGE_ENTRY) {
      length -= m.length + 1
      members.splice(i, 1)
    }
  }
  while (length > MAX_TRACESTATE_LENGTH && members.length > 0) {
    length -= (members.pop() as string).length + 1
  }
  return members.join(',')
}

const EMPTY = new W3CTraceState([], [], '')

/**
 * Parses a combined `tracestate` header (several headers joined with ","). Returns undefined
 * when the header is invalid: a bad member, a duplicate key or more than 32 members discards
 * the whole header (§3.3.1.1, §3.3.1.3). Empty members and optional whitespace are allowed.
 */
export function parseTraceState(header: string): TraceState | undefined {
  // hot path: one pass over char codes, no split/regex per member; a canonical header (no OWS,
  // no empty members) is kept as its own serialization so inject re-sends it without joining.
  if (typeof header !== 'string' || header.length > MAX_INPUT_LENGTH) return undefined
  const s = header
  const n = s.length
  const keys: string[] = []
  const values: string[] = []
  let canonical = true
  let pos = 0
  while (pos <= n) {
    let start = pos
    while (start < n) {
      const c = s.charCodeAt(start)
      if (c !== SP && c !== HTAB) break
      start++
    }
    let end = s.indexOf(',', start)
    if (end < 0) end = n
    let last = end
    while (last > start) {
      const c = s.charCodeAt(last - 1)
      if (c !== SP && c !== HTAB) break
      last--
    }
    if (start !== pos || last !== end) canonical = false
    if (last === start) {
      // empty or whitespace-only member: allowed, not sent on
      if (n > 0) canonical = false
    } else {
      const eq = s.indexOf('=', start)
      if (eq < 0 || eq >= last) return undefined
      if (!isValidKeyRange(s, start, eq) || !isValidValueRange(s, eq + 1, last)) return undefined
      if (keys.length === MAX_TRACESTATE_MEMBERS) return undefined
      const key = s.slice(start, eq)
      if (keys.includes(key)) return undefined
      keys.push(key)
      values.push(s.slice(eq + 1, last))
    }
    pos = end + 1
  }
  if (keys.length === 0) return EMPTY
  return new W3CTraceState(keys, values, canonical && n <= MAX_TRACESTATE_LENGTH ? s : undefined)
}

/** A new tracestate, from a header value or from entries (first = most recent); invalid input gives an empty state. */
export function createTraceState(init?: string | Iterable<readonly [string, string]>): TraceState {
  if (init === undefined) return EMPTY
  if (typeof init === 'string') return parseTraceState(init) ?? EMPTY
  let state: TraceState = EMPTY
  const list = [...init].reverse()
  for (const [k, v] of list) state = state.set(k, v)
  return state
}
