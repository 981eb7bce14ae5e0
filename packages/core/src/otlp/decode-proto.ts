/**
 * Decodes OTLP/protobuf `ExportTraceServiceRequest` bytes (opentelemetry-proto
 * collector/trace/v1) into the plain model. Unknown fields are skipped (proto3 forward
 * compatibility); truncated or malformed input gives an error result, never an exception.
 */
import { DecodeFailure, isValidHexId } from './decode-failure.js'
import {
  DEFAULT_LIMITS,
  type OtlpDecodeLimits,
  type OtlpDecodeResult,
  type OtlpEvent,
  type OtlpLink,
  type OtlpResourceSpans,
  type OtlpScope,
  type OtlpScopeSpans,
  type OtlpSpan,
  type OtlpSpanKind,
  type OtlpStatusCode,
  type OtlpValue,
} from './model.js'

const WIRE_VARINT = 0
const WIRE_I64 = 1
const WIRE_LEN = 2
const WIRE_I32 = 5

class Reader {
  pos = 0
  spans = 0
  rejected = 0
  rejectReason: string | undefined

  constructor(
    readonly buf: Buffer,
    readonly limits: Required<OtlpDecodeLimits>,
  ) {}

  varint(): number {
    const buf = this.buf
    let value = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw truncated()
      const b = buf[this.pos++] as number
      value += (b & 0x7f) * scale
      if (b < 0x80) return value
      scale *= 128
    }
    throw new DecodeFailure('TL_ERR_OTLP_TRUNCATED', 'a varint is longer than 10 bytes')
  }

  /** An int64 varint: a number when it is a safe integer, else its decimal string. */
  int64(): number | string {
    const start = this.pos
    const value = this.varint()
    if (this.pos - start <= 7) return value
    let big = 0n
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt((this.buf[i] as number) & 0x7f)
    const signed = BigInt.asIntN(64, big)
    const n = Number(signed)
    return Number.isSafeInteger(n) ? n : signed.toString()
  }

  /** The end offset of a length-delimited field whose length is read now. */
  lengthEnd(limit: number): number {
    const length = this.varint()
    const end = this.pos + length
    if (end > limit) throw truncated()
    return end
  }

  fixed32(): number {
    if (this.pos + 4 > this.buf.length) throw truncated()
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.buf.length) throw truncated()
    const v = this.buf.readBigUInt64LE(this.pos)
    this.pos += 8
    return v
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw truncated()
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }

  string(limit: number): string {
    const end = this.lengthEnd(limit)
    const s = this.buf.toString('utf8', this.pos, end)
    this.pos = end
    return s
  }

  hex(limit: number): string {
    const end = this.lengthEnd(limit)
    const s = this.buf.toString('hex', this.pos, end)
    this.pos = end
    return s
  }

  bytes(limit: number): Uint8Array {
    const end = this.lengthEnd(limit)
    const out = Uint8Array.prototype.slice.call(this.buf, this.pos, end)
    this.pos = end
    return out
  }

  skip(wire: number, limit: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint()
        return
      case WIRE_I64:
        this.pos += 8
        break
      case WIRE_LEN:
        this.pos = this.lengthEnd(limit)
        return
      case WIRE_I32:
        this.pos += 4
        break
      default:
        throw new DecodeFailure('TL_ERR_OTLP_WIRE_TYPE', `unsupported protobuf wire type ${wire} at byte ${this.pos}`)
    }
    if (this.pos > limit) throw truncated()
  }

  /** Checks that the fields of a message ended exactly at its end. */
  done(end: number): void {
    if (this.pos !== end) throw truncated()
  }

  expect(wire: number, expected: number, what: string): void {
    if (wire !== expected) {
      throw new DecodeFailure(
        'TL_ERR_OTLP_WIRE_TYPE',
        `${what} has wire type ${wire}, expected ${expected}: this is not an OTLP ExportTraceServiceRequest`,
      )
    }
  }
}

function truncated(): DecodeFailure {
  return new DecodeFailure(
    'TL_ERR_OTLP_TRUNCATED',
    'the message ends in the middle of a field (truncated or not protobuf)',
  )
}

/** Decodes an OTLP/protobuf trace export request. Never throws. */
export function decodeTraceRequestProto(bytes: Uint8Array, limits: OtlpDecodeLimits = {}): OtlpDecodeResult {
  const all = { ...DEFAULT_LIMITS, ...limits }
  if (!(bytes instanceof Uint8Array)) {
    return { ok: false, error: { code: 'TL_ERR_OTLP_SHAPE', message: `expected bytes, received ${typeof bytes}` } }
  }
  if (bytes.length > all.maxBytes) {
    return {
      ok: false,
      error: {
        code: 'TL_ERR_OTLP_TOO_LARGE',
        message: `the payload has ${bytes.length} bytes; the limit is ${all.maxBytes}`,
      },
    }
  }
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const r = new Reader(buf, all)
  try {
    const resourceSpans: OtlpResourceSpans[] = []
    const end = buf.length
    while (r.pos < end) {
      const tag = r.varint()
      if (tag >>> 3 === 1) {
        r.expect(tag & 7, WIRE_LEN, 'ExportTraceServiceRequest.resource_spans')
        resourceSpans.push(resourceSpansOf(r, r.lengthEnd(end)))
      } else r.skip(tag & 7, end)
    }
    r.done(end)
    const result: OtlpDecodeResult = { ok: true, request: { resourceSpans }, rejectedSpans: r.rejected }
    if (r.rejectReason !== undefined) result.rejectReason = r.rejectReason
    return result
  } catch (error) {
    if (error instanceof DecodeFailure) return { ok: false, error: { code: error.code, message: error.message } }
    return { ok: false, error: { code: 'TL_ERR_OTLP_SHAPE', message: `undecodable payload: ${String(error)}` } }
  }
}

function resourceSpansOf(r: Reader, end: number): OtlpResourceSpans {
  const out: OtlpResourceSpans = {
    resource: { attributes: {}, droppedAttributesCount: 0 },
    scopeSpans: [],
    schemaUrl: '',
  }
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    switch (tag >>> 3) {
      case 1: {
        r.expect(wire, WIRE_LEN, 'ResourceSpans.resource')
        const resEnd = r.lengthEnd(end)
        let count = 0
        while (r.pos < resEnd) {
          const t = r.varint()
          if (t >>> 3 === 1 && (t & 7) === WIRE_LEN) {
            if (++count > r.limits.maxItems) throw tooMany('Resource.attributes')
            keyValueInto(r, r.lengthEnd(resEnd), out.resource.attributes, 0)
          } else if (t >>> 3 === 2 && (t & 7) === WIRE_VARINT) out.resource.droppedAttributesCount = r.varint()
          else r.skip(t & 7, resEnd)
        }
        r.done(resEnd)
        break
      }
      case 2:
        r.expect(wire, WIRE_LEN, 'ResourceSpans.scope_spans')
        out.scopeSpans.push(scopeSpansOf(r, r.lengthEnd(end)))
        break
      case 3:
        r.expect(wire, WIRE_LEN, 'ResourceSpans.schema_url')
        out.schemaUrl = r.string(end)
        break
      default:
        r.skip(wire, end)
    }
  }
  r.done(end)
  return out
}

function scopeSpansOf(r: Reader, end: number): OtlpScopeSpans {
  const scope: OtlpScope = { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }
  const out: OtlpScopeSpans = { scope, spans: [], schemaUrl: '' }
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    switch (tag >>> 3) {
      case 1: {
        r.expect(wire, WIRE_LEN, 'ScopeSpans.scope')
        const scopeEnd = r.lengthEnd(end)
        let count = 0
        while (r.pos < scopeEnd) {
          const t = r.varint()
          const f = t >>> 3
          if (f === 1 && (t & 7) === WIRE_LEN) scope.name = r.string(scopeEnd)
          else if (f === 2 && (t & 7) === WIRE_LEN) scope.version = r.string(scopeEnd)
          else if (f === 3 && (t & 7) === WIRE_LEN) {
            if (++count > r.limits.maxItems) throw tooMany('InstrumentationScope.attributes')
            keyValueInto(r, r.lengthEnd(scopeEnd), scope.attributes, 0)
          } else if (f === 4 && (t & 7) === WIRE_VARINT) scope.droppedAttributesCount = r.varint()
          else r.skip(t & 7, scopeEnd)
        }
        r.done(scopeEnd)
        break
      }
      case 2: {
        r.expect(wire, WIRE_LEN, 'ScopeSpans.spans')
        if (++r.spans > r.limits.maxSpans) {
          throw new DecodeFailure('TL_ERR_OTLP_TOO_MANY', `the request has more than ${r.limits.maxSpans} spans`)
        }
        const span = spanOf(r, r.lengthEnd(end))
        const problem = !isValidHexId(span.traceId, 32)
          ? `invalid trace id "${span.traceId}"`
          : !isValidHexId(span.spanId, 16)
            ? `invalid span id "${span.spanId}"`
            : undefined
        if (problem === undefined) out.spans.push(span)
        else {
          r.rejected++
          r.rejectReason ??= `span "${span.name}" has an ${problem} (ids must be 16 and 8 bytes, not all zero)`
        }
        break
      }
      case 3:
        r.expect(wire, WIRE_LEN, 'ScopeSpans.schema_url')
        out.schemaUrl = r.string(end)
        break
      default:
        r.skip(wire, end)
    }
  }
  r.done(end)
  return out
}

function spanOf(r: Reader, end: number): OtlpSpan {
  const span: OtlpSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
  }
  let attributeCount = 0
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    const field = tag >>> 3
    switch (field) {
      case 1:
        r.expect(wire, WIRE_LEN, 'Span.trace_id')
        span.traceId = r.hex(end)
        break
      case 2:
        r.expect(wire, WIRE_LEN, 'Span.span_id')
        span.spanId = r.hex(end)
        break
      case 3:
        r.expect(wire, WIRE_LEN, 'Span.trace_state')
        span.traceState = r.string(end)
        break
      case 4:
        r.expect(wire, WIRE_LEN, 'Span.parent_span_id')
        span.parentSpanId = r.hex(end)
        break
      case 5:
        r.expect(wire, WIRE_LEN, 'Span.name')
        span.name = r.string(end)
        break
      case 6:
        r.expect(wire, WIRE_VARINT, 'Span.kind')
        span.kind = kindOf(r.varint())
        break
      case 7:
        r.expect(wire, WIRE_I64, 'Span.start_time_unix_nano')
        span.startTimeUnixNano = r.fixed64()
        break
      case 8:
        r.expect(wire, WIRE_I64, 'Span.end_time_unix_nano')
        span.endTimeUnixNano = r.fixed64()
        break
      case 9:
        r.expect(wire, WIRE_LEN, 'Span.attributes')
        if (++attributeCount > r.limits.maxItems) throw tooMany('Span.attributes')
        keyValueInto(r, r.lengthEnd(end), span.attributes, 0)
        break
      case 10:
        r.expect(wire, WIRE_VARINT, 'Span.dropped_attributes_count')
        span.droppedAttributesCount = r.varint()
        break
      case 11:
        r.expect(wire, WIRE_LEN, 'Span.events')
        if (span.events.length >= r.limits.maxItems) throw tooMany('Span.events')
        span.events.push(eventOf(r, r.lengthEnd(end)))
        break
      case 12:
        r.expect(wire, WIRE_VARINT, 'Span.dropped_events_count')
        span.droppedEventsCount = r.varint()
        break
      case 13:
        r.expect(wire, WIRE_LEN, 'Span.links')
        if (span.links.length >= r.limits.maxItems) throw tooMany('Span.links')
        span.links.push(linkOf(r, r.lengthEnd(end)))
        break
      case 14:
        r.expect(wire, WIRE_VARINT, 'Span.dropped_links_count')
        span.droppedLinksCount = r.varint()
        break
      case 15: {
        r.expect(wire, WIRE_LEN, 'Span.status')
        const statusEnd = r.lengthEnd(end)
        while (r.pos < statusEnd) {
          const t = r.varint()
          if (t >>> 3 === 2 && (t & 7) === WIRE_LEN) span.status.message = r.string(statusEnd)
          else if (t >>> 3 === 3 && (t & 7) === WIRE_VARINT) span.status.code = statusCodeOf(r.varint())
          else r.skip(t & 7, statusEnd)
        }
        r.done(statusEnd)
        break
      }
      case 16:
        r.expect(wire, WIRE_I32, 'Span.flags')
        span.flags = r.fixed32()
        break
      default:
        r.skip(wire, end)
    }
  }
  r.done(end)
  return span
}

function eventOf(r: Reader, end: number): OtlpEvent {
  const event: OtlpEvent = { timeUnixNano: 0n, name: '', attributes: {}, droppedAttributesCount: 0 }
  let count = 0
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    const field = tag >>> 3
    if (field === 1 && wire === WIRE_I64) event.timeUnixNano = r.fixed64()
    else if (field === 2 && wire === WIRE_LEN) event.name = r.string(end)
    else if (field === 3 && wire === WIRE_LEN) {
      if (++count > r.limits.maxItems) throw tooMany('Event.attributes')
      keyValueInto(r, r.lengthEnd(end), event.attributes, 0)
    } else if (field === 4 && wire === WIRE_VARINT) event.droppedAttributesCount = r.varint()
    else r.skip(wire, end)
  }
  r.done(end)
  return event
}

function linkOf(r: Reader, end: number): OtlpLink {
  const link: OtlpLink = {
    traceId: '',
    spanId: '',
    traceState: '',
    attributes: {},
    droppedAttributesCount: 0,
    flags: 0,
  }
  let count = 0
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    const field = tag >>> 3
    if (field === 1 && wire === WIRE_LEN) link.traceId = r.hex(end)
    else if (field === 2 && wire === WIRE_LEN) link.spanId = r.hex(end)
    else if (field === 3 && wire === WIRE_LEN) link.traceState = r.string(end)
    else if (field === 4 && wire === WIRE_LEN) {
      if (++count > r.limits.maxItems) throw tooMany('Link.attributes')
      keyValueInto(r, r.lengthEnd(end), link.attributes, 0)
    } else if (field === 5 && wire === WIRE_VARINT) link.droppedAttributesCount = r.varint()
    else if (field === 6 && wire === WIRE_I32) link.flags = r.fixed32()
    else r.skip(wire, end)
  }
  r.done(end)
  return link
}

/** Reads a KeyValue message and stores it into `into` (a later duplicate key wins). */
function keyValueInto(r: Reader, end: number, into: { [key: string]: OtlpValue }, depth: number): void {
  let key = ''
  let value: OtlpValue = null
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    const field = tag >>> 3
    if (field === 1 && wire === WIRE_LEN) key = r.string(end)
    else if (field === 2 && wire === WIRE_LEN) value = anyValueOf(r, r.lengthEnd(end), depth)
    else r.skip(wire, end)
  }
  r.done(end)
  // a "__proto__" key must become a property, not the object's prototype
  if (key === '__proto__')
    Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true })
  else into[key] = value
}

function anyValueOf(r: Reader, end: number, depth: number): OtlpValue {
  if (depth > r.limits.maxValueDepth) {
    throw new DecodeFailure(
      'TL_ERR_OTLP_TOO_DEEP',
      `an attribute value nests deeper than ${r.limits.maxValueDepth} levels`,
    )
  }
  let value: OtlpValue = null
  while (r.pos < end) {
    const tag = r.varint()
    const wire = tag & 7
    switch (tag >>> 3) {
      case 1:
        r.expect(wire, WIRE_LEN, 'AnyValue.string_value')
        value = r.string(end)
        break
      case 2:
        r.expect(wire, WIRE_VARINT, 'AnyValue.bool_value')
        value = r.varint() !== 0
        break
      case 3:
        r.expect(wire, WIRE_VARINT, 'AnyValue.int_value')
        value = r.int64()
        break
      case 4:
        r.expect(wire, WIRE_I64, 'AnyValue.double_value')
        value = r.double()
        break
      case 5: {
        r.expect(wire, WIRE_LEN, 'AnyValue.array_value')
        const arrayEnd = r.lengthEnd(end)
        const items: OtlpValue[] = []
        while (r.pos < arrayEnd) {
          const t = r.varint()
          if (t >>> 3 === 1 && (t & 7) === WIRE_LEN) {
            if (items.length >= r.limits.maxItems) throw tooMany('ArrayValue.values')
            items.push(anyValueOf(r, r.lengthEnd(arrayEnd), depth + 1))
          } else r.skip(t & 7, arrayEnd)
        }
        r.done(arrayEnd)
        value = items
        break
      }
      case 6: {
        r.expect(wire, WIRE_LEN, 'AnyValue.kvlist_value')
        const listEnd = r.lengthEnd(end)
        const map: { [key: string]: OtlpValue } = {}
        let count = 0
        while (r.pos < listEnd) {
          const t = r.varint()
          if (t >>> 3 === 1 && (t & 7) === WIRE_LEN) {
            if (++count > r.limits.maxItems) throw tooMany('KeyValueList.values')
            keyValueInto(r, r.lengthEnd(listEnd), map, depth + 1)
          } else r.skip(t & 7, listEnd)
        }
        r.done(listEnd)
        value = map
        break
      }
      case 7:
        r.expect(wire, WIRE_LEN, 'AnyValue.bytes_value')
        value = r.bytes(end)
        break
      default:
        r.skip(wire, end)
    }
  }
  r.done(end)
  return value
}

function tooMany(what: string): DecodeFailure {
  return new DecodeFailure('TL_ERR_OTLP_TOO_MANY', `${what} has more entries than the limit allows`)
}

export function kindOf(value: number): OtlpSpanKind {
  return value >= 0 && value <= 5 ? (value as OtlpSpanKind) : 0
}

export function statusCodeOf(value: number): OtlpStatusCode {
  return value === 1 || value === 2 ? value : 0
}
