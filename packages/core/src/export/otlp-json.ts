/**
 * OTLP/JSON encoder (OTLP spec §JSON Protobuf Encoding): trace and span ids as hex strings,
 * lowerCamelCase field names, enums as integers, 64-bit integers (times, `intValue`) as decimal
 * strings. Written straight to bytes rather than as an object tree that JSON.stringify walks again.
 */
import { type Attributes, type AttributeValue, attributePairsOf, type ReadableSpan, type SpanLink } from '../span.js'
import {
  AttributeFragments,
  type Fragment,
  fragment,
  fragmentLength,
  putFragment,
  putLatin1,
  putRepeat,
  textFragment,
} from './fragments.js'
import { JsonWriter, putDigits, putPadded } from './json-writer.js'
import { split, splitNanos } from './nanos.js'
import { groupByResourceAndScope } from './otlp-grouping.js'
import { spanFlags } from './otlp-proto.js'

const TRACE_ID = textFragment('{"traceId":"')
const SPAN_ID = textFragment('","spanId":"')
const PARENT = textFragment(',"parentSpanId":"')
const FLAGS = textFragment(',"flags":')
const NAME = textFragment(',"name":')
const KIND = textFragment(',"kind":')
const START = textFragment(',"startTimeUnixNano":"')
const END = textFragment('","endTimeUnixNano":"')
const ATTRIBUTES_AFTER_TIME = textFragment('","attributes":')
const STRING_VALUE = textFragment('{"stringValue":')
const INT_VALUE = textFragment('{"intValue":"')
const CLOSE_INT = textFragment('"}')
const CLOSE = textFragment('}')
const CLOSE_ATTRIBUTE = textFragment('}}')
const TRUE = textFragment('{"boolValue":true}}')
const FALSE = textFragment('{"boolValue":false}}')

/** Attribute keys as `{"key":"<key>","value":`, pairs as whole `{"key":…,"value":{…}}` entries. */
const attributeFragments = new AttributeFragments(
  (key) => {
    const kw = new JsonWriter(64)
    keyPrefix(kw, key)
    return kw.finish()
  },
  (key, value) => {
    const pw = new JsonWriter(128)
    pw.fragment(key)
    topValue(pw, value)
    return pw.finish()
  },
)

function keyPrefix(w: JsonWriter, key: string): void {
  w.raw('{"key":')
  w.string(key)
  w.raw(',"value":')
}

/**
 * `,"flags":F,"name":"<name>","kind":K,"startTimeUnixNano":"` per span name, flags and kind:
 * span names are low-cardinality by design (route templates, operations), so the middle of a
 * span's head is one copy. Bounded in names, in combinations per name and in name length.
 */
const nameCache = new Map<string, Map<number, Fragment>>()
const NAME_LIMIT = 1024
const MAX_CACHED_NAME = 256

function nameKindFragment(name: string, flags: number, kind: number): Fragment | undefined {
  const key = flags * 8 + kind
  let byFlagsAndKind = nameCache.get(name)
  const hit = byFlagsAndKind?.get(key)
  if (hit !== undefined) return hit
  if (name.length > MAX_CACHED_NAME || !(kind >= 0 && kind < 8)) return
  if (byFlagsAndKind === undefined) {
    if (nameCache.size >= NAME_LIMIT) return
    byFlagsAndKind = new Map()
    nameCache.set(name, byFlagsAndKind)
  } else if (byFlagsAndKind.size >= 16) return
  const nw = new JsonWriter(64 + name.length * 6)
  nw.fragment(FLAGS)
  nw.digits(flags)
  nw.fragment(NAME)
  nw.string(name)
  nw.fragment(KIND)
  nw.digits(kind + 1)
  nw.fragment(START)
  const f = fragment(nw.finish())
  byFlagsAndKind.set(key, f)
  return f
}

/** Epoch nanoseconds of a span time, as digits (the quotes are written by the caller). */
function writeNanos(w: JsonWriter, time: number): void {
  w.ensure(22)
  w.pos = putNanos(w.buf, w.pos, time)
}

/**
 * Ids repeat within a batch: a trace's spans share its trace id, siblings share their parent's
 * span id, and a parent's own span id was already written as its children's parent id. A small
 * direct-mapped cache (id -> where it was written in this document) copies those bytes instead of
 * reading the id string again (ids are substrings of a pooled hex string, ~7 ns per character).
 * Cleared per document, so it never holds ids (or their pool) past one export.
 */
const ID_SLOTS = 64
const idStrings: string[] = new Array<string>(ID_SLOTS).fill('')
const idPrints = new Int32Array(ID_SLOTS)
const idPositions = new Int32Array(ID_SLOTS)

// hot path: three ids per span. Four characters pick the slot and reject most other ids before
// `===`, which for two distinct substrings of equal length costs a runtime call (~40 ns).
/** Writes an id (hex, no escaping needed) at `pos`, which has room for it plus 3; returns the end. */
function putId(out: DataView, pos: number, hex: string): number {
  const length = hex.length
  const slot = (hex.charCodeAt(0) * 31 + hex.charCodeAt(length - 1)) & (ID_SLOTS - 1)
  const print = (length << 16) | (hex.charCodeAt(1) << 8) | hex.charCodeAt(length - 2)
  if (idPrints[slot] === print && idStrings[slot] === hex) {
    return putRepeat(out, pos, idPositions[slot] as number, length)
  }
  idStrings[slot] = hex
  idPrints[slot] = print
  idPositions[slot] = pos
  return putLatin1(out, pos, hex)
}

/** A span time as epoch-nanosecond digits at `pos` (room for 22 bytes); returns the end. */
function putNanos(buf: Uint8Array, pos: number, time: number): number {
  splitNanos(time)
  const ms = split.ms
  if (ms >= 1e12 && ms < 1e13) {
    // every time since 2001: 13 digits of milliseconds (as 5 + 8), then 6 of nanoseconds
    const high = Math.floor(ms / 1e8)
    pos = putPadded(buf, pos, high, 5)
    pos = putPadded(buf, pos, ms - high * 1e8, 8)
    return putPadded(buf, pos, split.ns, 6)
  }
  if (ms <= 0) return putDigits(buf, pos, Math.max(0, split.ns))
  // before 2001 or after 2286
  return putPadded(buf, putDigits(buf, pos, ms), split.ns, 6)
}

let shared: JsonWriter | undefined
const MAX_KEPT_BUFFER = 4 * 1024 * 1024

/** Encodes spans as an OTLP `ExportTraceServiceRequest` in JSON (UTF-8 bytes). */
export function encodeTraceRequestJsonBytes(spans: readonly ReadableSpan[]): Uint8Array {
  // One writer reused across batches: its buffer grows to the largest batch and stays.
  const w = shared ?? new JsonWriter()
  shared = undefined
  try {
    return writeTraceRequestJson(w, spans)
  } finally {
    // keep the buffer for the next batch unless one huge batch grew it
    shared = w.buf.length <= MAX_KEPT_BUFFER ? w : undefined
  }
}

/** Writes the request with `w` (reset first) and returns its bytes; exported for the tests. */
export function writeTraceRequestJson(w: JsonWriter, spans: readonly ReadableSpan[]): Uint8Array {
  w.reset()
  try {
    w.raw('{"resourceSpans":[')
    let firstResource = true
    for (const group of groupByResourceAndScope(spans)) {
      w.raw(firstResource ? '{"resource":{"attributes":' : ',{"resource":{"attributes":')
      firstResource = false
      attributes(w, group.resource.attributes)
      w.raw('},"scopeSpans":[')
      let firstScope = true
      for (const { scope, spans: list } of group.scopes) {
        w.raw(firstScope ? '{"scope":{"name":' : ',{"scope":{"name":')
        firstScope = false
        w.string(scope.name)
        if (scope.version) {
          w.raw(',"version":')
          w.string(scope.version)
        }
        w.raw('},"spans":[')
        for (let i = 0; i < list.length; i++) {
          if (i) w.byte(0x2c)
          span(w, list[i] as ReadableSpan)
        }
        w.raw(']')
        if (scope.schemaUrl) {
          w.raw(',"schemaUrl":')
          w.string(scope.schemaUrl)
        }
        w.raw('}')
      }
      w.raw(']')
      if (group.resource.schemaUrl) {
        w.raw(',"schemaUrl":')
        w.string(group.resource.schemaUrl)
      }
      w.raw('}')
    }
    w.raw(']}')
    return w.finish()
  } finally {
    idStrings.fill('')
  }
}

/** Encodes spans as an OTLP `ExportTraceServiceRequest` in JSON text. */
export function encodeTraceRequestJson(spans: readonly ReadableSpan[]): string {
  const bytes = encodeTraceRequestJsonBytes(spans)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

// hot path: one call per span; ids are already lower-case hex and need no escaping.
function span(w: JsonWriter, s: ReadableSpan): void {
  const sc = s.spanContext()
  const parent = s.parentSpanContext
  const traceId = sc.traceId
  const spanId = sc.spanId
  const parentId = parent?.spanId
  // one bounds check for the fixed-size head: literals (86), flags (< 10), word slack (3), ids
  w.ensure(128 + traceId.length + spanId.length + (parentId ? parentId.length : 0))
  let buf = w.buf
  let view = w.view
  let pos = putFragment(buf, view, w.pos, TRACE_ID)
  pos = putId(view, pos, traceId)
  pos = putFragment(buf, view, pos, SPAN_ID)
  pos = putId(view, pos, spanId)
  buf[pos++] = 0x22
  const traceState = sc.traceState?.serialize()
  if (traceState) {
    w.pos = pos
    w.raw(',"traceState":')
    w.string(traceState)
    w.ensure(64 + (parentId ? parentId.length : 0))
    buf = w.buf
    view = w.view
    pos = w.pos
  }
  if (parentId) {
    pos = putFragment(buf, view, pos, PARENT)
    pos = putId(view, pos, parentId)
    buf[pos++] = 0x22
  }
  const flags = spanFlags(sc.traceFlags, parent?.isRemote)
  const middle = nameKindFragment(s.name, flags, s.kind)
  if (middle !== undefined) {
    w.pos = pos
    w.ensure(fragmentLength(middle) + 3 + 128)
    buf = w.buf
    view = w.view
    pos = putFragment(buf, view, w.pos, middle)
  } else {
    pos = putFragment(buf, view, pos, FLAGS)
    pos = putDigits(buf, pos, flags)
    w.pos = putFragment(buf, view, pos, NAME)
    w.string(s.name)
    // kind (31), two times (up to 22 digits each), the literals between them (36), word slack (3)
    w.ensure(128)
    buf = w.buf
    view = w.view
    pos = putFragment(buf, view, w.pos, KIND)
    pos = putDigits(buf, pos, s.kind + 1)
    pos = putFragment(buf, view, pos, START)
  }
  pos = putNanos(buf, pos, s.startTime)
  pos = putFragment(buf, view, pos, END)
  pos = putNanos(buf, pos, s.endTime)
  w.pos = putFragment(buf, view, pos, ATTRIBUTES_AFTER_TIME)
  // hot path: a recorded span's [key, value, …] list, without building its attributes object
  const pairs = attributePairsOf(s)
  if (pairs !== undefined) attributeList(w, pairs)
  else attributes(w, s.attributes)
  if (s.droppedAttributesCount) w.raw(`,"droppedAttributesCount":${s.droppedAttributesCount}`)
  if (s.events.length > 0) {
    w.raw(',"events":[')
    for (let i = 0; i < s.events.length; i++) {
      const e = s.events[i]!
      w.raw(i ? ',{"timeUnixNano":"' : '{"timeUnixNano":"')
      writeNanos(w, e.time)
      w.raw('","name":')
      w.string(e.name)
      w.raw(',"attributes":')
      attributes(w, e.attributes)
      if (e.droppedAttributesCount) w.raw(`,"droppedAttributesCount":${e.droppedAttributesCount}`)
      w.raw('}')
    }
    w.raw(']')
  }
  if (s.droppedEventsCount) w.raw(`,"droppedEventsCount":${s.droppedEventsCount}`)
  if (s.links.length > 0) {
    w.raw(',"links":[')
    for (let i = 0; i < s.links.length; i++) {
      if (i) w.byte(0x2c)
      link(w, s.links[i]!)
    }
    w.raw(']')
  }
  if (s.droppedLinksCount) w.raw(`,"droppedLinksCount":${s.droppedLinksCount}`)
  const status = s.status
  if (status.code || status.message) {
    w.raw(',"status":{')
    if (status.message) {
      w.raw('"message":')
      w.string(status.message)
      w.raw(',')
    }
    w.raw(`"code":${status.code}}`)
  }
  w.byte(0x7d)
}

function link(w: JsonWriter, l: SpanLink): void {
  const ctx = l.context
  // link contexts come from user code, unvalidated: escape them like any string
  w.raw('{"traceId":')
  w.string(String(ctx.traceId))
  w.raw(',"spanId":')
  w.string(String(ctx.spanId))
  const traceState = ctx.traceState?.serialize()
  if (traceState) {
    w.raw(',"traceState":')
    w.string(traceState)
  }
  w.raw(',"attributes":')
  attributes(w, l.attributes ?? {})
  if (l.droppedAttributesCount) w.raw(`,"droppedAttributesCount":${l.droppedAttributesCount}`)
  w.raw(`,"flags":${spanFlags(ctx.traceFlags, ctx.isRemote)}}`)
}

// hot path: one call per span (and per event); most values are strings found in the pair cache.
function attributes(w: JsonWriter, attrs: Attributes): void {
  w.byte(0x5b)
  let first = true
  for (const key in attrs) {
    const value = attrs[key]
    if (value === undefined || value === null) continue
    if (first) first = false
    else w.byte(0x2c)
    keyValue(w, key, value)
  }
  w.byte(0x5d)
}

/** The same for a `[key, value, …]` list (see `attributePairsOf`). */
function attributeList(w: JsonWriter, pairs: ReadonlyArray<string | AttributeValue>): void {
  w.byte(0x5b)
  let first = true
  for (let i = 0; i < pairs.length; i += 2) {
    const value = pairs[i + 1] as AttributeValue | null | undefined
    if (value === undefined || value === null) continue
    if (first) first = false
    else w.byte(0x2c)
    keyValue(w, pairs[i] as string, value)
  }
  w.byte(0x5d)
}

function keyValue(w: JsonWriter, key: string, value: AttributeValue): void {
  const entry = attributeFragments.entry(key)
  if (entry === undefined) {
    keyPrefix(w, key)
    topValue(w, value)
    return
  }
  const pair = attributeFragments.pair(entry, value)
  if (pair !== undefined) {
    w.fragment(pair)
    return
  }
  w.fragment(entry.key)
  topValue(w, value)
}

// hot path: the value of a top-level attribute, with the KeyValue's closing brace.
function topValue(w: JsonWriter, value: AttributeValue): void {
  switch (typeof value) {
    case 'string':
      w.fragment(STRING_VALUE)
      w.string(value)
      w.fragment(CLOSE_ATTRIBUTE)
      return
    case 'boolean':
      w.fragment(value ? TRUE : FALSE)
      return
    case 'number':
      if (Number.isSafeInteger(value) && value >= 0) {
        w.fragment(INT_VALUE)
        w.digits(value)
        w.fragment(CLOSE_INT)
        w.fragment(CLOSE)
        return
      }
      break
  }
  anyValue(w, value)
  w.fragment(CLOSE)
}

function anyValue(w: JsonWriter, value: AttributeValue | null | undefined): void {
  switch (typeof value) {
    case 'string':
      w.raw('{"stringValue":')
      w.string(value)
      w.raw('}')
      return
    case 'boolean':
      w.raw(value ? '{"boolValue":true}' : '{"boolValue":false}')
      return
    case 'number':
      if (Number.isSafeInteger(value)) w.raw(`{"intValue":"${value}"}`)
      // proto3 JSON: non-finite doubles are the strings "NaN", "Infinity", "-Infinity"
      else w.raw(Number.isFinite(value) ? `{"doubleValue":${value}}` : `{"doubleValue":"${value}"}`)
      return
    case 'object':
      if (Array.isArray(value)) {
        w.raw('{"arrayValue":{"values":[')
        for (let i = 0; i < value.length; i++) {
          if (i) w.byte(0x2c)
          anyValue(w, value[i])
        }
        w.raw(']}}')
        return
      }
      w.raw('{}')
      return
    default:
      w.raw('{}')
  }
}
