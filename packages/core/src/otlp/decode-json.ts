/**
 * Decodes OTLP/JSON trace export requests (OTLP spec §JSON Protobuf Encoding: hex ids,
 * lowerCamelCase names, enums as integers, 64-bit integers as strings or numbers) into the plain
 * model. Receivers must also accept the proto field names (snake_case) and enum names, so this
 * does. Malformed input gives an error result, never an exception.
 */
import { DecodeFailure, isValidHexId } from './decode-failure.js'
import { kindOf, statusCodeOf } from './decode-proto.js'
import {
  DEFAULT_LIMITS,
  type OtlpAttributes,
  type OtlpDecodeLimits,
  type OtlpDecodeResult,
  type OtlpEvent,
  type OtlpLink,
  type OtlpResourceSpans,
  type OtlpScopeSpans,
  type OtlpSpan,
  type OtlpValue,
} from './model.js'

type Json = Record<string, unknown>

interface State {
  limits: Required<OtlpDecodeLimits>
  spans: number
  rejected: number
  rejectReason: string | undefined
}

/** Decodes an OTLP/JSON trace export request, given as text or as an already parsed value. Never throws. */
export function decodeTraceRequestJson(input: unknown, limits: OtlpDecodeLimits = {}): OtlpDecodeResult {
  const all = { ...DEFAULT_LIMITS, ...limits }
  let value = input
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text =
      typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8')
    if (text.length > all.maxBytes) {
      return {
        ok: false,
        error: {
          code: 'TL_ERR_OTLP_TOO_LARGE',
          message: `the payload has ${text.length} characters; the limit is ${all.maxBytes}`,
        },
      }
    }
    try {
      value = JSON.parse(text)
    } catch (error) {
      return {
        ok: false,
        error: {
          code: 'TL_ERR_OTLP_JSON',
          message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
        },
      }
    }
  }
  const state: State = { limits: all, spans: 0, rejected: 0, rejectReason: undefined }
  try {
    const root = object(value, 'the request')
    const resourceSpans = list(field(root, 'resourceSpans', 'resource_spans'), 'resourceSpans').map((rs, i) =>
      resourceSpansOf(state, object(rs, `resourceSpans[${i}]`), `resourceSpans[${i}]`),
    )
    const result: OtlpDecodeResult = { ok: true, request: { resourceSpans }, rejectedSpans: state.rejected }
    if (state.rejectReason !== undefined) result.rejectReason = state.rejectReason
    return result
  } catch (error) {
    if (error instanceof DecodeFailure) return { ok: false, error: { code: error.code, message: error.message } }
    return { ok: false, error: { code: 'TL_ERR_OTLP_SHAPE', message: `undecodable payload: ${String(error)}` } }
  }
}

function shape(message: string): DecodeFailure {
  return new DecodeFailure('TL_ERR_OTLP_SHAPE', message)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 40))}` : typeof value
}

function object(value: unknown, path: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw shape(`${path} must be an object, received ${describe(value)}`)
  }
  return value as Json
}

function field(obj: Json, camel: string, snake: string): unknown {
  const v = obj[camel]
  return v === undefined ? obj[snake] : v
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw shape(`${path} must be an array, received ${describe(value)}`)
  return value
}

function str(value: unknown, path: string): string {
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') throw shape(`${path} must be a string, received ${describe(value)}`)
  return value
}

function uint(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw shape(`${path} must be a non-negative integer, received ${describe(value)}`)
  }
  return n
}

function nanos(value: unknown, path: string): bigint {
  if (value === undefined || value === null) return 0n
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return BigInt(value)
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return BigInt(Math.round(value))
  throw shape(`${path} must be nanoseconds as a decimal string or number, received ${describe(value)}`)
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/

/** A trace or span id: hex per the OTLP JSON mapping; base64 (the plain protobuf JSON form) is tolerated. */
function id(value: unknown, path: string, bytes: number): string {
  const s = str(value, path)
  if (s.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(s)) return s.toLowerCase()
  if (s.length > 0 && s.length <= 4 * Math.ceil(bytes / 3) && BASE64_RE.test(s)) {
    const decoded = Buffer.from(s, 'base64')
    if (decoded.length === bytes) return decoded.toString('hex')
  }
  return s.length > 64 ? `${s.slice(0, 64)}…` : s
}

const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
}
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 }

function enumValue(value: unknown, names: Record<string, number>, path: string): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && Object.hasOwn(names, value)) return names[value] as number
  throw shape(`${path} must be an enum number, received ${describe(value)}`)
}

function resourceSpansOf(state: State, rs: Json, path: string): OtlpResourceSpans {
  const resource = field(rs, 'resource', 'resource')
  const res = resource === undefined || resource === null ? {} : object(resource, `${path}.resource`)
  return {
    resource: {
      attributes: attributes(state, field(res, 'attributes', 'attributes'), `${path}.resource.attributes`),
      droppedAttributesCount: uint(
        field(res, 'droppedAttributesCount', 'dropped_attributes_count'),
        `${path}.resource.droppedAttributesCount`,
      ),
    },
    scopeSpans: list(field(rs, 'scopeSpans', 'scope_spans'), `${path}.scopeSpans`).map((ss, i) =>
      scopeSpansOf(state, object(ss, `${path}.scopeSpans[${i}]`), `${path}.scopeSpans[${i}]`),
    ),
    schemaUrl: str(field(rs, 'schemaUrl', 'schema_url'), `${path}.schemaUrl`),
  }
}

function scopeSpansOf(state: State, ss: Json, path: string): OtlpScopeSpans {
  const rawScope = field(ss, 'scope', 'scope')
  const scope = rawScope === undefined || rawScope === null ? {} : object(rawScope, `${path}.scope`)
  const spans: OtlpSpan[] = []
  const rawSpans = list(field(ss, 'spans', 'spans'), `${path}.spans`)
  for (let i = 0; i < rawSpans.length; i++) {
    if (++state.spans > state.limits.maxSpans) {
      throw new DecodeFailure('TL_ERR_OTLP_TOO_MANY', `the request has more than ${state.limits.maxSpans} spans`)
    }
    const spanPath = `${path}.spans[${i}]`
    const span = spanOf(state, object(rawSpans[i], spanPath), spanPath)
    const problem = !isValidHexId(span.traceId, 32)
      ? `invalid trace id "${span.traceId}"`
      : !isValidHexId(span.spanId, 16)
        ? `invalid span id "${span.spanId}"`
        : undefined
    if (problem === undefined) spans.push(span)
    else {
      state.rejected++
      state.rejectReason ??= `${spanPath} ("${span.name}") has an ${problem} (ids must be 32 and 16 hex digits, not all zero)`
    }
  }
  return {
    scope: {
      name: str(scope.name, `${path}.scope.name`),
      version: str(scope.version, `${path}.scope.version`),
      attributes: attributes(state, scope.attributes, `${path}.scope.attributes`),
      droppedAttributesCount: uint(
        field(scope, 'droppedAttributesCount', 'dropped_attributes_count'),
        `${path}.scope.droppedAttributesCount`,
      ),
    },
    spans,
    schemaUrl: str(field(ss, 'schemaUrl', 'schema_url'), `${path}.schemaUrl`),
  }
}

function spanOf(state: State, s: Json, path: string): OtlpSpan {
  const rawStatus = s.status
  const status = rawStatus === undefined || rawStatus === null ? {} : object(rawStatus, `${path}.status`)
  const events = list(s.events, `${path}.events`)
  const links = list(s.links, `${path}.links`)
  if (events.length > state.limits.maxItems) throw tooMany(`${path}.events`)
  if (links.length > state.limits.maxItems) throw tooMany(`${path}.links`)
  const parent = field(s, 'parentSpanId', 'parent_span_id')
  return {
    traceId: id(field(s, 'traceId', 'trace_id'), `${path}.traceId`, 16),
    spanId: id(field(s, 'spanId', 'span_id'), `${path}.spanId`, 8),
    parentSpanId: parent === undefined || parent === null || parent === '' ? '' : id(parent, `${path}.parentSpanId`, 8),
    traceState: str(field(s, 'traceState', 'trace_state'), `${path}.traceState`),
    flags: uint(s.flags, `${path}.flags`),
    name: str(s.name, `${path}.name`),
    kind: kindOf(enumValue(s.kind, KIND_NAMES, `${path}.kind`)),
    startTimeUnixNano: nanos(field(s, 'startTimeUnixNano', 'start_time_unix_nano'), `${path}.startTimeUnixNano`),
    endTimeUnixNano: nanos(field(s, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`),
    attributes: attributes(state, s.attributes, `${path}.attributes`),
    droppedAttributesCount: uint(
      field(s, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.droppedAttributesCount`,
    ),
    events: events.map((e, i) => eventOf(state, object(e, `${path}.events[${i}]`), `${path}.events[${i}]`)),
    droppedEventsCount: uint(field(s, 'droppedEventsCount', 'dropped_events_count'), `${path}.droppedEventsCount`),
    links: links.map((l, i) => linkOf(state, object(l, `${path}.links[${i}]`), `${path}.links[${i}]`)),
    droppedLinksCount: uint(field(s, 'droppedLinksCount', 'dropped_links_count'), `${path}.droppedLinksCount`),
    status: {
      code: statusCodeOf(enumValue(status.code, STATUS_NAMES, `${path}.status.code`)),
      message: str(status.message, `${path}.status.message`),
    },
  }
}

function eventOf(state: State, e: Json, path: string): OtlpEvent {
  return {
    timeUnixNano: nanos(field(e, 'timeUnixNano', 'time_unix_nano'), `${path}.timeUnixNano`),
    name: str(e.name, `${path}.name`),
    attributes: attributes(state, e.attributes, `${path}.attributes`),
    droppedAttributesCount: uint(
      field(e, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.droppedAttributesCount`,
    ),
  }
}

function linkOf(state: State, l: Json, path: string): OtlpLink {
  return {
    traceId: id(field(l, 'traceId', 'trace_id'), `${path}.traceId`, 16),
    spanId: id(field(l, 'spanId', 'span_id'), `${path}.spanId`, 8),
    traceState: str(field(l, 'traceState', 'trace_state'), `${path}.traceState`),
    attributes: attributes(state, l.attributes, `${path}.attributes`),
    droppedAttributesCount: uint(
      field(l, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.droppedAttributesCount`,
    ),
    flags: uint(l.flags, `${path}.flags`),
  }
}

function attributes(state: State, value: unknown, path: string): OtlpAttributes {
  const out: OtlpAttributes = {}
  const items = list(value, path)
  if (items.length > state.limits.maxItems) throw tooMany(path)
  for (let i = 0; i < items.length; i++) keyValueInto(state, items[i], out, `${path}[${i}]`, 0)
  return out
}

function keyValueInto(state: State, raw: unknown, into: OtlpAttributes, path: string, depth: number): void {
  const kv = object(raw, path)
  const key = str(kv.key, `${path}.key`)
  const value = anyValue(state, kv.value, `${path}.value`, depth)
  if (key === '__proto__')
    Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true })
  else into[key] = value
}

function anyValue(state: State, raw: unknown, path: string, depth: number): OtlpValue {
  if (depth > state.limits.maxValueDepth) {
    throw new DecodeFailure('TL_ERR_OTLP_TOO_DEEP', `${path} nests deeper than ${state.limits.maxValueDepth} levels`)
  }
  if (raw === undefined || raw === null) return null
  const v = object(raw, path)
  if (v.stringValue !== undefined || v.string_value !== undefined) {
    return str(field(v, 'stringValue', 'string_value'), `${path}.stringValue`)
  }
  const b = field(v, 'boolValue', 'bool_value')
  if (b !== undefined) {
    if (typeof b !== 'boolean') throw shape(`${path}.boolValue must be a boolean, received ${describe(b)}`)
    return b
  }
  const int = field(v, 'intValue', 'int_value')
  if (int !== undefined) {
    if (typeof int === 'number' && Number.isInteger(int)) return int
    if (typeof int === 'string' && /^-?\d{1,20}$/.test(int)) {
      const n = Number(int)
      return Number.isSafeInteger(n) ? n : BigInt.asIntN(64, BigInt(int)).toString()
    }
    throw shape(`${path}.intValue must be an integer or a decimal string, received ${describe(int)}`)
  }
  const dbl = field(v, 'doubleValue', 'double_value')
  if (dbl !== undefined) {
    if (typeof dbl === 'number') return dbl
    if (dbl === 'NaN' || dbl === 'Infinity' || dbl === '-Infinity') return Number(dbl)
    if (typeof dbl === 'string' && dbl.trim() !== '' && Number.isFinite(Number(dbl))) return Number(dbl)
    throw shape(`${path}.doubleValue must be a number, received ${describe(dbl)}`)
  }
  const array = field(v, 'arrayValue', 'array_value')
  if (array !== undefined) {
    const values = list(object(array, `${path}.arrayValue`).values, `${path}.arrayValue.values`)
    if (values.length > state.limits.maxItems) throw tooMany(`${path}.arrayValue.values`)
    return values.map((item, i) => anyValue(state, item, `${path}.arrayValue.values[${i}]`, depth + 1))
  }
  const kvlist = field(v, 'kvlistValue', 'kvlist_value')
  if (kvlist !== undefined) {
    const values = list(object(kvlist, `${path}.kvlistValue`).values, `${path}.kvlistValue.values`)
    if (values.length > state.limits.maxItems) throw tooMany(`${path}.kvlistValue.values`)
    const map: OtlpAttributes = {}
    for (let i = 0; i < values.length; i++) {
      keyValueInto(state, values[i], map, `${path}.kvlistValue.values[${i}]`, depth + 1)
    }
    return map
  }
  const bytes = field(v, 'bytesValue', 'bytes_value')
  if (bytes !== undefined) {
    const s = str(bytes, `${path}.bytesValue`)
    if (!BASE64_RE.test(s)) throw shape(`${path}.bytesValue must be base64, received ${describe(bytes)}`)
    return new Uint8Array(Buffer.from(s, 'base64'))
  }
  return null
}

function tooMany(path: string): DecodeFailure {
  return new DecodeFailure('TL_ERR_OTLP_TOO_MANY', `${path} has more entries than the limit allows`)
}
