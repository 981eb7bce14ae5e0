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

// Character classes (hot path: one table lookup per char instead of range tests).
const KEY_FIRST = 1 // lcalpha / DIGIT
const KEY_CHAR = 2 // keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" ("@" handled apart)
const LCALPHA = 4
const VALUE_CHAR = 8 // chr = %x20-7E except "," and "="
const CLASS = new Uint8Array(128)
for (let c = 0x20; c <= 0x7e; c++) if (c !== COMMA && c !== EQUALS) CLASS[c] = VALUE_CHAR
const addClass = (c: number, bits: number) => {
  CLASS[c] = (CLASS[c] as number) | bits
}
for (let c = 0x61; c <= 0x7a; c++) addClass(c, KEY_FIRST | KEY_CHAR | LCALPHA)
for (let c = 0x30; c <= 0x39; c++) addClass(c, KEY_FIRST | KEY_CHAR)
for (const ch of '_-*/') addClass(ch.charCodeAt(0), KEY_CHAR)

function classOf(c: number): number {
  return c < 128 ? (CLASS[c] as number) : 0
}

/**
 * W3C trace-context §3.3.1.3.1. `key = (lcalpha / DIGIT) 0*255(keychar)`; a multi-tenant key
 * `tenant@system` (level 1 grammar) keeps its limits: tenant 1-241 chars starting with lcalpha or
 * DIGIT, system 1-14 chars starting with lcalpha, one "@" only.
 */
function isValidKeyRange(s: string, start: number, end: number): boolean {
  const length = end - start
  if (length < 1 || length > 256) return false
  if ((classOf(s.charCodeAt(start)) & KEY_FIRST) === 0) return false
  let at = -1
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i)
    if ((classOf(c) & KEY_CHAR) !== 0) continue
    if (c !== AT || at >= 0) return false
    at = i
  }
  if (at < 0) return true
  const tenant = at - start
  const system = end - at - 1
  if (tenant > 241 || system < 1 || system > 14) return false
  return (classOf(s.charCodeAt(at + 1)) & LCALPHA) !== 0
}

/** §3.3.1.3.2: `value = 0*255(chr) nblk-chr`, chr = %x20-7E except "," and "=". */
function isValidValueRange(s: string, start: number, end: number): boolean {
  const length = end - start
  if (length < 1 || length > 256) return false
  for (let i = start; i < end; i++) {
    if ((classOf(s.charCodeAt(i)) & VALUE_CHAR) === 0) return false
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
  /** Keys and values in header order (left = most recent); split from `serialized` on first use. */
  private keyList: readonly string[] | undefined
  private valueList: readonly string[] | undefined
  /** The serialized form, computed once (the received header itself when it was canonical). */
  private serialized: string | undefined

  constructor(keys: readonly string[] | undefined, values: readonly string[] | undefined, serialized?: string) {
    this.keyList = keys
    this.valueList = values
    this.serialized = serialized
  }

  // hot path: a received header that is only passed on is never split into members.
  private get keys(): readonly string[] {
    if (this.keyList === undefined) this.split()
    return this.keyList as readonly string[]
  }

  private get values(): readonly string[] {
    if (this.valueList === undefined) this.split()
    return this.valueList as readonly string[]
  }

  private split(): void {
    // `serialized` is a validated canonical header here: no OWS, no empty members
    const keys: string[] = []
    const values: string[] = []
    if (this.serialized) {
      for (const member of this.serialized.split(',')) {
        const eq = member.indexOf('=')
        keys.push(member.slice(0, eq))
        values.push(member.slice(eq + 1))
      }
    }
    this.keyList = keys
    this.valueList = values
  }

  get(key: string): string | undefined {
    const i = this.keys.indexOf(key)
    return i < 0 ? undefined : this.values[i]
  }

  /** Adds or updates an entry; it moves to the front (§3.5). Invalid keys or values leave the state unchanged. */
  set(key: string, value: string): TraceState {
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(value)) return this
    const own = this.keys
    const i = own.indexOf(key)
    if (i < 0 && own.length >= MAX_TRACESTATE_MEMBERS) {
      // Full: the new entry goes in front and the right-most one is dropped (§3.3.1.5).
      return new W3CTraceState([key, ...own.slice(0, -1)], [value, ...this.values.slice(0, -1)])
    }
    const keys = [key]
    const values = [value]
    for (let j = 0; j < own.length; j++) {
      if (j === i) continue
      keys.push(own[j] as string)
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

// Key ranges of the header being parsed (parsing is synchronous, so one scratch array is enough).
const keyStarts = new Int32Array(MAX_TRACESTATE_MEMBERS)
const keyEnds = new Int32Array(MAX_TRACESTATE_MEMBERS)
const valueStarts = new Int32Array(MAX_TRACESTATE_MEMBERS)
const valueEnds = new Int32Array(MAX_TRACESTATE_MEMBERS)

function sameRange(s: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false
  for (let i = 0; i < aEnd - a; i++) if (s.charCodeAt(a + i) !== s.charCodeAt(b + i)) return false
  return true
}

/**
 * Parses a combined `tracestate` header (several headers joined with ","). Returns undefined
 * when the header is invalid: a bad member, a duplicate key or more than 32 members discards
 * the whole header (§3.3.1.1, §3.3.1.3). Empty members and optional whitespace are allowed.
 */
export function parseTraceState(header: string): TraceState | undefined {
  // hot path: one pass over char codes with a class table, no split/regex/slice per member; a
  // canonical header (no OWS, no empty members) is kept whole and re-sent as is by inject.
  if (typeof header !== 'string' || header.length > MAX_INPUT_LENGTH) return undefined
  const s = header
  const n = s.length
  let count = 0
  let canonical = true
  let i = 0
  while (i < n) {
    let c = s.charCodeAt(i)
    if (c === SP || c === HTAB) {
      canonical = false
      i++
      continue
    }
    if (c === COMMA) {
      canonical = false // an empty member
      i++
      continue
    }
    // key (§3.3.1.3.1)
    const keyStart = i
    if ((classOf(c) & KEY_FIRST) === 0) return undefined
    let at = -1
    for (i++; i < n; i++) {
      c = s.charCodeAt(i)
      if ((classOf(c) & KEY_CHAR) !== 0) continue
      if (c === AT && at < 0) at = i
      else break
    }
    if (i >= n || c !== EQUALS) return undefined
    const keyEnd = i
    if (keyEnd - keyStart > 256) return undefined
    if (at >= 0) {
      const system = keyEnd - at - 1
      if (at - keyStart > 241 || system < 1 || system > 14 || (classOf(s.charCodeAt(at + 1)) & LCALPHA) === 0) {
        return undefined
      }
    }
    // value (§3.3.1.3.2): up to the next comma; trailing spaces/tabs are OWS
    const valueStart = ++i
    let firstTab = -1
    for (; i < n; i++) {
      c = s.charCodeAt(i)
      if ((classOf(c) & VALUE_CHAR) !== 0) continue
      if (c === HTAB) {
        if (firstTab < 0) firstTab = i
      } else break
    }
    if (i < n && c !== COMMA) return undefined
    let valueEnd = i
    while (valueEnd > valueStart) {
      const t = s.charCodeAt(valueEnd - 1)
      if (t !== SP && t !== HTAB) break
      valueEnd--
    }
    if (valueEnd !== i) canonical = false
    if (valueEnd === valueStart || valueEnd - valueStart > 256 || (firstTab >= 0 && firstTab < valueEnd)) {
      return undefined
    }
    if (count === MAX_TRACESTATE_MEMBERS) return undefined
    for (let k = 0; k < count; k++) {
      if (sameRange(s, keyStarts[k] as number, keyEnds[k] as number, keyStart, keyEnd)) return undefined
    }
    keyStarts[count] = keyStart
    keyEnds[count] = keyEnd
    valueStarts[count] = valueStart
    valueEnds[count] = valueEnd
    count++
    if (i < n) {
      i++ // the comma
      if (i === n) canonical = false // a trailing empty member
    }
  }
  if (count === 0) return EMPTY
  if (canonical && n <= MAX_TRACESTATE_LENGTH) return new W3CTraceState(undefined, undefined, s)
  const keys: string[] = []
  const values: string[] = []
  for (let k = 0; k < count; k++) {
    keys.push(s.slice(keyStarts[k], keyEnds[k]))
    values.push(s.slice(valueStarts[k], valueEnds[k]))
  }
  return new W3CTraceState(keys, values)
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
