/**
 * OTLP/JSON encoder (OTLP spec §JSON Protobuf Encoding): trace and span ids as hex strings,
 * lowerCamelCase field names, enums as integers, 64-bit integers (times, `intValue`) as decimal
 * strings. Written straight to bytes rather than as an object tree that JSON.stringify walks again.
 */
import type { Attributes, AttributeValue, ReadableSpan, SpanLink } from '../span.js'
import { JsonWriter, literal } from './json-writer.js'
import { split, splitNanos } from './nanos.js'
import { groupByResourceAndScope } from './otlp-grouping.js'
import { spanFlags } from './otlp-proto.js'

const TRACE_ID = literal('{"traceId":"')
const SPAN_ID = literal('","spanId":"')
const QUOTE = literal('"')
const PARENT = literal(',"parentSpanId":"')
const FLAGS = literal(',"flags":')
const NAME = literal(',"name":')
const KIND = literal(',"kind":')
const START = literal(',"startTimeUnixNano":"')
const END = literal('","endTimeUnixNano":"')
const ATTRIBUTES_AFTER_TIME = literal('","attributes":')
const STRING_VALUE = literal('{"stringValue":')
const INT_VALUE = literal('{"intValue":"')
const CLOSE_INT = literal('"}')
const CLOSE = literal('}')
const CLOSE_ATTRIBUTE = literal('}}')
const TRUE = literal('{"boolValue":true}}')
const FALSE = literal('{"boolValue":false}}')

/**
 * Per attribute key: `{"key":"<key>","value":` encoded once (keys repeat across spans), and whole
 * `{"key":…,"value":{"stringValue":…}}` entries for short string values (methods, routes, db
 * systems, query texts, user agents repeat too). One map lookup finds both. Bounded in keys, in
 * values per key and in values overall, so high-cardinality values (paths, ids) stop being cached
 * once their key is full.
 */
interface KeyEntry {
  prefix: Uint8Array
  pairs: Map<string, Uint8Array>
}
const keyCache = new Map<string, KeyEntry>()
const KEY_CACHE_LIMIT = 4096
let pairEntries = 0
const PAIR_LIMIT = 8192
const PAIRS_PER_KEY = 64
const MAX_CACHED_VALUE = 256

function keyEntry(key: string): KeyEntry {
  let entry = keyCache.get(key)
  if (entry === undefined) {
    const kw = new JsonWriter(64)
    kw.raw('{"key":')
    kw.string(key)
    kw.raw(',"value":')
    entry = { prefix: kw.finish(), pairs: new Map() }
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, entry)
  }
  return entry
}

function cachePair(entry: KeyEntry, value: string): Uint8Array | undefined {
  if (value.length > MAX_CACHED_VALUE || pairEntries >= PAIR_LIMIT || entry.pairs.size >= PAIRS_PER_KEY) return
  const pw = new JsonWriter(128)
  pw.bytes(entry.prefix)
  pw.bytes(STRING_VALUE)
  pw.string(value)
  pw.bytes(CLOSE_ATTRIBUTE)
  const bytes = pw.finish()
  entry.pairs.set(value, bytes)
  pairEntries++
  return bytes
}

/** Epoch nanoseconds of a span time, as digits (the quotes are written by the caller). */
function writeNanos(w: JsonWriter, time: number): void {
  splitNanos(time)
  if (split.ms > 0) {
    w.digits(split.ms)
    w.paddedDigits(split.ns, 6)
  } else w.digits(Math.max(0, split.ns))
}

let shared: JsonWriter | undefined
const MAX_KEPT_BUFFER = 4 * 1024 * 1024

/** Encodes spans as an OTLP `ExportTraceServiceRequest` in JSON (UTF-8 bytes). */
export function encodeTraceRequestJsonBytes(spans: readonly ReadableSpan[]): Uint8Array {
  // One writer reused across batches: its buffer grows to the largest batch and stays.
  const w = shared ?? new JsonWriter()
  shared = undefined
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
    // keep the buffer for the next batch unless one huge batch grew it
    shared = w.buf.length <= MAX_KEPT_BUFFER ? w : undefined
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
  w.bytes(TRACE_ID)
  w.raw(sc.traceId)
  w.bytes(SPAN_ID)
  w.raw(sc.spanId)
  w.bytes(QUOTE)
  const traceState = sc.traceState?.serialize()
  if (traceState) {
    w.raw(',"traceState":')
    w.string(traceState)
  }
  if (parent?.spanId) {
    w.bytes(PARENT)
    w.raw(parent.spanId)
    w.bytes(QUOTE)
  }
  w.bytes(FLAGS)
  w.digits(spanFlags(sc.traceFlags, parent?.isRemote))
  w.bytes(NAME)
  w.string(s.name)
  w.bytes(KIND)
  w.digits(s.kind + 1)
  w.bytes(START)
  writeNanos(w, s.startTime)
  w.bytes(END)
  writeNanos(w, s.endTime)
  w.bytes(ATTRIBUTES_AFTER_TIME)
  attributes(w, s.attributes)
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
    const entry = keyEntry(key)
    if (typeof value === 'string') {
      const pair = entry.pairs.get(value) ?? cachePair(entry, value)
      if (pair !== undefined) {
        w.bytes(pair)
        continue
      }
    }
    w.bytes(entry.prefix)
    topValue(w, value)
  }
  w.byte(0x5d)
}

// hot path: the value of a top-level attribute, with the KeyValue's closing brace.
function topValue(w: JsonWriter, value: AttributeValue): void {
  switch (typeof value) {
    case 'string':
      w.bytes(STRING_VALUE)
      w.string(value)
      w.bytes(CLOSE_ATTRIBUTE)
      return
    case 'boolean':
      w.bytes(value ? TRUE : FALSE)
      return
    case 'number':
      if (Number.isSafeInteger(value) && value >= 0) {
        w.bytes(INT_VALUE)
        w.digits(value)
        w.bytes(CLOSE_INT)
        w.bytes(CLOSE)
        return
      }
      break
  }
  anyValue(w, value)
  w.bytes(CLOSE)
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
