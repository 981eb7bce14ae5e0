/**
 * OTLP/protobuf encoder for `ExportTraceServiceRequest` (opentelemetry-proto
 * collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto), written
 * by hand so core keeps no runtime dependencies. Fields at their proto3 default (0, "", empty)
 * are omitted, as proto3 encoders do.
 */
import type { Resource } from '../resource.js'
import type { Attributes, AttributeValue, InstrumentationScope, ReadableSpan, SpanLink } from '../span.js'
import { groupByResourceAndScope } from './otlp-grouping.js'
import { ProtoWriter, WIRE_I32, WIRE_I64, WIRE_VARINT } from './proto-writer.js'

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
  w.reset()
  try {
    for (const group of groupByResourceAndScope(spans)) {
      const rs = w.fork(1) // ExportTraceServiceRequest.resource_spans
      writeResource(w, group.resource)
      for (const scopeGroup of group.scopes) {
        const ss = w.fork(2) // ResourceSpans.scope_spans
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
    // keep the buffer for the next batch unless one huge batch grew it
    shared = w.buf.length <= MAX_KEPT_BUFFER ? w : undefined
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
  const start = w.fork(2) // ScopeSpans.spans
  const sc = span.spanContext()
  w.tag(1, 2)
  w.hexBytes(sc.traceId)
  w.tag(2, 2)
  w.hexBytes(sc.spanId)
  const traceState = sc.traceState?.serialize()
  if (traceState) {
    w.tag(3, 2)
    w.string(traceState)
  }
  const parent = span.parentSpanContext
  if (parent?.spanId) {
    w.tag(4, 2)
    w.hexBytes(parent.spanId)
  }
  if (span.name) {
    w.tag(5, 2)
    w.string(span.name)
  }
  w.tag(6, WIRE_VARINT)
  w.varint(span.kind + 1) // OTLP SpanKind = API kind + 1 (0 is UNSPECIFIED)
  w.tag(7, WIRE_I64)
  w.nanos(span.startTime)
  w.tag(8, WIRE_I64)
  w.nanos(span.endTime)
  writeAttributes(w, 9, span.attributes)
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

/** `KeyValue.key` (tag, length, UTF-8) per attribute key: keys repeat across spans, so encode each once. */
const keyCache = new Map<string, Uint8Array>()
const KEY_CACHE_LIMIT = 4096

function encodedKey(key: string): Uint8Array {
  let bytes = keyCache.get(key)
  if (bytes === undefined) {
    const kw = new ProtoWriter(64)
    kw.tag(1, 2)
    kw.string(key)
    bytes = kw.finish()
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, bytes)
  }
  return bytes
}

/**
 * Whole KeyValue bodies for short string values (methods, routes, db systems, query texts repeat
 * across spans). Bounded per key and overall, so high-cardinality values stop being cached.
 */
const pairCache = new Map<string, Map<string, Uint8Array>>()
let pairEntries = 0
const PAIR_LIMIT = 8192
const PAIRS_PER_KEY = 64
const MAX_CACHED_VALUE = 256

function cachedPair(key: string, value: string): Uint8Array | undefined {
  let values = pairCache.get(key)
  const hit = values?.get(value)
  if (hit !== undefined || value.length > MAX_CACHED_VALUE || pairEntries >= PAIR_LIMIT) return hit
  if (values === undefined) {
    values = new Map()
    pairCache.set(key, values)
  } else if (values.size >= PAIRS_PER_KEY) return undefined
  const pw = new ProtoWriter(128)
  pw.bytes(encodedKey(key))
  const v = pw.fork(2)
  pw.tag(1, 2)
  pw.string(value)
  pw.join(v)
  const bytes = pw.finish()
  values.set(value, bytes)
  pairEntries++
  return bytes
}

/** Repeated KeyValue under `field`. */
function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key]
    if (value === undefined || value === null) continue
    if (typeof value === 'string') {
      const pair = cachedPair(key, value)
      if (pair !== undefined) {
        w.tag(field, 2)
        w.varint(pair.length)
        w.bytes(pair)
        continue
      }
    }
    const kv = w.fork(field)
    w.bytes(encodedKey(key))
    const v = w.fork(2) // KeyValue.value
    writeAnyValueBody(w, value)
    w.join(v)
    w.join(kv)
  }
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
