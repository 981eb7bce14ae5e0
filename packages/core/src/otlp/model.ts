/**
 * The plain model both OTLP decoders (protobuf and JSON) produce: one shape for a collector to
 * store, whatever the wire format. Ids are lower-case hex, times are epoch nanoseconds as
 * `bigint`, enums keep their OTLP numbers, attributes are plain values.
 */

/** An attribute value. Integers beyond 2^53 become decimal strings; `bytes_value` a Uint8Array. */
export type OtlpValue = string | number | boolean | null | Uint8Array | OtlpValue[] | { [key: string]: OtlpValue }

export type OtlpAttributes = Record<string, OtlpValue>

/** OTLP `Span.SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export type OtlpSpanKind = 0 | 1 | 2 | 3 | 4 | 5

/** OTLP `Status.StatusCode`: 0 unset, 1 ok, 2 error. */
export type OtlpStatusCode = 0 | 1 | 2

export interface OtlpEvent {
  timeUnixNano: bigint
  name: string
  attributes: OtlpAttributes
  droppedAttributesCount: number
}

export interface OtlpLink {
  traceId: string
  spanId: string
  traceState: string
  attributes: OtlpAttributes
  droppedAttributesCount: number
  flags: number
}

export interface OtlpSpan {
  traceId: string
  spanId: string
  /** '' for a root span. */
  parentSpanId: string
  traceState: string
  /** Low 8 bits: W3C trace flags; 0x100: remote-ness known; 0x200: parent is remote. */
  flags: number
  name: string
  kind: OtlpSpanKind
  startTimeUnixNano: bigint
  endTimeUnixNano: bigint
  attributes: OtlpAttributes
  droppedAttributesCount: number
  events: OtlpEvent[]
  droppedEventsCount: number
  links: OtlpLink[]
  droppedLinksCount: number
  status: { code: OtlpStatusCode; message: string }
}

export interface OtlpScope {
  name: string
  version: string
  attributes: OtlpAttributes
  droppedAttributesCount: number
}

export interface OtlpScopeSpans {
  scope: OtlpScope
  spans: OtlpSpan[]
  schemaUrl: string
}

export interface OtlpResourceSpans {
  resource: { attributes: OtlpAttributes; droppedAttributesCount: number }
  scopeSpans: OtlpScopeSpans[]
  schemaUrl: string
}

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[]
}

/** Stable codes a decoder fails with. */
export type OtlpDecodeErrorCode =
  | 'TL_ERR_OTLP_TRUNCATED'
  | 'TL_ERR_OTLP_WIRE_TYPE'
  | 'TL_ERR_OTLP_TOO_LARGE'
  | 'TL_ERR_OTLP_TOO_DEEP'
  | 'TL_ERR_OTLP_TOO_MANY'
  | 'TL_ERR_OTLP_JSON'
  | 'TL_ERR_OTLP_SHAPE'

export interface OtlpDecodeError {
  code: OtlpDecodeErrorCode
  /** What was wrong and where (e.g. `resourceSpans[0].scopeSpans[1].spans[3].traceId`). */
  message: string
}

export type OtlpDecodeResult =
  | {
      ok: true
      request: OtlpTraceRequest
      /** Spans left out because their trace or span id is invalid (OTLP partial success). */
      rejectedSpans: number
      /** Why the first rejected span was rejected. */
      rejectReason?: string
    }
  | { ok: false; error: OtlpDecodeError }

/** Limits against absurd input; the defaults suit a local collector. */
export interface OtlpDecodeLimits {
  /** Largest payload accepted, bytes (protobuf) or characters (JSON text). Default 64 MiB. */
  maxBytes?: number
  /** Most spans in one request. Default 200 000. */
  maxSpans?: number
  /** Deepest nesting of array/kvlist attribute values. Default 16. */
  maxValueDepth?: number
  /** Most attributes, events or links on one item. Default 10 000. */
  maxItems?: number
}

export const DEFAULT_LIMITS: Required<OtlpDecodeLimits> = {
  maxBytes: 64 * 1024 * 1024,
  maxSpans: 200_000,
  maxValueDepth: 16,
  maxItems: 10_000,
}
