/**
 * OTLP/protobuf encoder for `ExportTraceServiceRequest` (opentelemetry-proto
 * collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto), written
 * by hand so core keeps no runtime dependencies. Fields at their proto3 default (0, "", empty)
 * are omitted, as proto3 encoders do.
 */
import type { Resource } from '../resource.js'
import {
  type Attributes,
  type AttributeValue,
  attributePairsOf,
  type InstrumentationScope,
  type ReadableSpan,
  type SpanLink,
} from '../span.js'
import { AttributeFragments, type Fragment, fragment, fragmentLength } from './fragments.js'
import { groupByResourceAndScope } from './otlp-grouping.js'
import { HEX, ProtoWriter, WIRE_I32, WIRE_I64, WIRE_VARINT } from './proto-writer.js'

/** Span.flags bits beyond the W3C trace flags (trace.proto SpanFlags). */
export const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100
export const SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200

const resourceCache = new WeakMap<Resource, Uint8Array>()
let shared: ProtoWriter | undefined
const MAX_KEPT_BUFFER = 4 * 1024 * 1024

/** Encodes spans as an OTLP `ExportTraceServiceRequest` (protobuf bytes). */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Uint8Array {
  // One writer reused across batches: its buffer grows to the largest batch and stays.
  const w = shared ?? new ProtoWriter()
  shared = undefined
  try {
    return writeTraceRequest(w, spans)
  } finally {
    // keep the buffer for the next batch unless one huge batch grew it
    shared = w.buf.length <= MAX_KEPT_BUFFER ? w : undefined
  }
}

/** Writes the request with `w` (reset first) and returns a copy of its bytes; exported for the tests. */
export function writeTraceRequest(w: ProtoWriter, spans: readonly ReadableSpan[]): Uint8Array {
  w.reset()
  try {
    for (const group of groupByResourceAndScope(spans)) {
      const rs = w.fork(1, 3) // ExportTraceServiceRequest.resource_spans (batches up to 2 MiB: no move)
      writeResource(w, group.resource)
      for (const scopeGroup of group.scopes) {
        const ss = w.fork(2, 3) // ResourceSpans.scope_spans
        writeScope(w, scopeGroup.scope)
        for (const span of scopeGroup.spans) writeSpan(w, span)
        if (scopeGroup.scope.schemaUrl) {
          w.tag(3, 2)
          w.string(scopeGroup.scope.schemaUrl)
        }
        w.join(ss)
      }
      if (group.resource.schemaUrl) {
        w.tag(3, 2)
        w.string(group.resource.schemaUrl)
      }
      w.join(rs)
    }
    return w.finish()
  } finally {
    idStrings.fill('')
  }
}

function writeResource(w: ProtoWriter, resource: Resource): void {
  // The resource is the same for every batch of a process: encode it once.
  let bytes = resourceCache.get(resource)
  if (!bytes) {
    const rw = new ProtoWriter(1024)
    writeAttributes(rw, 1, resource.attributes) // Resource.attributes
    bytes = rw.finish()
    if (Object.isFrozen(resource.attributes)) resourceCache.set(resource, bytes)
  }
  w.tag(1, 2) // ResourceSpans.resource
  w.rawBytes(bytes)
}

function writeScope(w: ProtoWriter, scope: InstrumentationScope): void {
  const start = w.fork(1) // ScopeSpans.scope
  if (scope.name) {
    w.tag(1, 2)
    w.string(scope.name)
  }
  if (scope.version) {
    w.tag(2, 2)
    w.string(scope.version)
  }
  w.join(start)
}

// hot path: one call per span; field order follows trace.proto's numbering.
function writeSpan(w: ProtoWriter, span: ReadableSpan): void {
  const start = w.fork(2, 2) // ScopeSpans.spans
  const sc = span.spanContext()
  writeId(w, 1, sc.traceId)
  writeId(w, 2, sc.spanId)
  const traceState = sc.traceState?.serialize()
  if (traceState) {
    w.tag(3, 2)
    w.string(traceState)
  }
  const parent = span.parentSpanContext
  if (parent?.spanId) writeId(w, 4, parent.spanId)
  const nameAndKind = nameKindFragment(span.name, span.kind)
  if (nameAndKind !== undefined) w.fragment(nameAndKind)
  else writeNameAndKind(w, span.name, span.kind)
  w.nanos(span.startTime)
  w.tag(8, WIRE_I64)
  w.nanos(span.endTime)
  // hot path: a recorded span's [key, value, …] list, without building its attributes object
  const pairs = attributePairsOf(span)
  if (pairs !== undefined) {
    for (let i = 0; i < pairs.length; i += 2) writeKeyValue(w, 9, pairs[i] as string, pairs[i + 1] as AttributeValue)
  } else writeAttributes(w, 9, span.attributes)
  if (span.droppedAttributesCount) {
    w.tag(10, WIRE_VARINT)
    w.varint(span.droppedAttributesCount)
  }
  for (const event of span.events) {
    const e = w.fork(11)
    w.tag(1, WIRE_I64)
    w.nanos(event.time)
    if (event.name) {
      w.tag(2, 2)
      w.string(event.name)
    }
    writeAttributes(w, 3, event.attributes)
    if (event.droppedAttributesCount) {
      w.tag(4, WIRE_VARINT)
      w.varint(event.droppedAttributesCount)
    }
    w.join(e)
  }
  if (span.droppedEventsCount) {
    w.tag(12, WIRE_VARINT)
    w.varint(span.droppedEventsCount)
  }
  for (const link of span.links) writeLink(w, link)
  if (span.droppedLinksCount) {
    w.tag(14, WIRE_VARINT)
    w.varint(span.droppedLinksCount)
  }
  const status = span.status
  if (status.code || status.message) {
    const s = w.fork(15)
    if (status.message) {
      w.tag(2, 2)
      w.string(status.message)
    }
    if (status.code) {
      w.tag(3, WIRE_VARINT)
      w.varint(status.code) // API and proto StatusCode share values
    }
    w.join(s)
  }
  w.tag(16, WIRE_I32)
  w.fixed32(spanFlags(sc.traceFlags, parent?.isRemote))
  w.join(start)
}

/** Span.name, Span.kind and the tag of Span.start_time_unix_nano. */
function writeNameAndKind(w: ProtoWriter, name: string, kind: number): void {
  if (name) {
    w.tag(5, 2)
    w.string(name)
  }
  w.tag(6, WIRE_VARINT)
  w.varint(kind + 1) // OTLP SpanKind = API kind + 1 (0 is UNSPECIFIED)
  w.tag(7, WIRE_I64)
}

/**
 * `writeNameAndKind`'s bytes per span name and kind: span names are low-cardinality by design
 * (route templates, operations). Bounded in names and in name length.
 */
const nameCache = new Map<string, Fragment[]>()
const NAME_LIMIT = 1024
const MAX_CACHED_NAME = 256

function nameKindFragment(name: string, kind: number): Fragment | undefined {
  let byKind = nameCache.get(name)
  const hit = byKind?.[kind]
  if (hit !== undefined) return hit
  if (name.length > MAX_CACHED_NAME || !(kind >= 0 && kind < 8) || kind !== Math.floor(kind)) return
  if (byKind === undefined) {
    if (nameCache.size >= NAME_LIMIT) return
    byKind = []
    nameCache.set(name, byKind)
  }
  const nw = new ProtoWriter(64 + name.length * 3)
  writeNameAndKind(nw, name, kind)
  const f = fragment(nw.finish())
  byKind[kind] = f
  return f
}

function writeLink(w: ProtoWriter, link: SpanLink): void {
  const start = w.fork(13)
  const ctx = link.context
  w.tag(1, 2)
  w.hexBytes(ctx.traceId)
  w.tag(2, 2)
  w.hexBytes(ctx.spanId)
  const traceState = ctx.traceState?.serialize()
  if (traceState) {
    w.tag(3, 2)
    w.string(traceState)
  }
  if (link.attributes) writeAttributes(w, 4, link.attributes)
  if (link.droppedAttributesCount) {
    w.tag(5, WIRE_VARINT)
    w.varint(link.droppedAttributesCount)
  }
  w.tag(6, WIRE_I32)
  w.fixed32(spanFlags(ctx.traceFlags, ctx.isRemote))
  w.join(start)
}

/** Span.flags / Link.flags: W3C trace flags plus whether the parent (or link) is remote. */
export function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | (isRemote ? SPAN_FLAGS_CONTEXT_IS_REMOTE : 0)
}

/**
 * Ids repeat within a batch: a trace's spans share its trace id, siblings share their parent's
 * span id, and a parent's own span id was already written as its children's parent id. A small
 * direct-mapped cache keeps the decoded bytes of recent ids, so a repeated id is copied instead of
 * decoded from hex again. Cleared per batch, so it never holds ids (or their pool) past one export.
 */
const ID_SLOTS = 64
const idStrings: string[] = new Array<string>(ID_SLOTS).fill('')
const idPrints = new Int32Array(ID_SLOTS)
const idBytes = new Uint8Array(ID_SLOTS * 16)

// hot path: three ids per span. Four characters pick the slot and reject most other ids before
// `===`, which for two distinct substrings of equal length costs a runtime call (~40 ns).
/** A trace or span id (lower- or upper-case hex) as a bytes field. */
function writeId(w: ProtoWriter, field: number, hex: string): void {
  const length = hex.length
  if (length > 32) {
    w.tag(field, 2)
    w.hexBytes(hex)
    return
  }
  const slot = (hex.charCodeAt(0) * 31 + hex.charCodeAt(length - 1)) & (ID_SLOTS - 1)
  const print = (length << 16) | (hex.charCodeAt(1) << 8) | hex.charCodeAt(length - 2)
  const at = slot * 16
  const size = length >>> 1
  if (idPrints[slot] !== print || idStrings[slot] !== hex) {
    idStrings[slot] = hex
    idPrints[slot] = print
    for (let i = 0; i < size; i++) {
      const hi = HEX[hex.charCodeAt(2 * i) & 0x7f] as number
      const lo = HEX[hex.charCodeAt(2 * i + 1) & 0x7f] as number
      idBytes[at + i] = ((hi & 0xf) << 4) | (lo & 0xf)
    }
  }
  w.ensure(2 + size)
  const buf = w.buf
  let pos = w.pos
  buf[pos++] = field * 8 + 2 // fields 1, 2, 4: one-byte tags
  buf[pos++] = size
  for (let i = 0; i < size; i++) buf[pos++] = idBytes[at + i] as number
  w.pos = pos
}

/** Attribute keys as `KeyValue.key` (tag, length, UTF-8), pairs as whole KeyValue bodies. */
const attributeFragments = new AttributeFragments(
  (key) => {
    const kw = new ProtoWriter(64)
    kw.tag(1, 2)
    kw.string(key)
    return kw.finish()
  },
  (key, value) => {
    const pw = new ProtoWriter(128)
    pw.fragment(key)
    const v = pw.fork(2) // KeyValue.value
    writeAnyValueBody(pw, value)
    pw.join(v)
    return pw.finish()
  },
)

// hot path: one call per span (and event); most attributes are whole cached KeyValues.
/** Repeated KeyValue under `field`. */
function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) writeKeyValue(w, field, key, attributes[key])
}

/** One KeyValue under `field`; nothing for an undefined or null value. */
function writeKeyValue(w: ProtoWriter, field: number, key: string, value: AttributeValue | null | undefined): void {
  if (value === undefined || value === null) return
  const entry = attributeFragments.entry(key)
  const pair = entry === undefined ? undefined : attributeFragments.pair(entry, value)
  if (pair !== undefined) {
    w.tag(field, 2)
    w.varint(fragmentLength(pair))
    w.fragment(pair)
    return
  }
  const kv = w.fork(field)
  if (entry === undefined) {
    w.tag(1, 2)
    w.string(key)
  } else w.fragment(entry.key)
  const v = w.fork(2) // KeyValue.value
  writeAnyValueBody(w, value)
  w.join(v)
  w.join(kv)
}

/** The fields of an AnyValue message (common.proto): the oneof member for the value's type. */
function writeAnyValueBody(w: ProtoWriter, value: AttributeValue | null | undefined): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, 2)
      w.string(value)
      return
    case 'boolean':
      w.tag(2, WIRE_VARINT)
      w.varint(value ? 1 : 0)
      return
    case 'number':
      if (Number.isSafeInteger(value)) {
        w.tag(3, WIRE_VARINT)
        w.int64(value)
      } else {
        w.tag(4, WIRE_I64)
        w.double(value)
      }
      return
    case 'object':
      if (Array.isArray(value)) {
        const array = w.fork(5) // AnyValue.array_value
        for (const item of value) {
          const entry = w.fork(1) // ArrayValue.values
          writeAnyValueBody(w, item)
          w.join(entry)
        }
        w.join(array)
      }
      return
    default:
      return
  }
}
