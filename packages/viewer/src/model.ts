/**
 * The viewer's span model: what every decoder (OTLP protobuf/JSON, Zipkin) produces after
 * validation, what stores keep and what the query API returns. Times are microseconds since the
 * Unix epoch (fractional where the source had nanoseconds): Jaeger's unit, and exact in a double
 * for the next few centuries.
 */

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer'
export type StatusCodeName = 'UNSET' | 'OK' | 'ERROR'

/** An attribute value as JSON: OTLP's AnyValue with bytes as base64 and int64 beyond 2^53 as a string. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue }
export type Attrs = Record<string, AttrValue>

/** The fields search, dependencies and statistics need; cheap to keep in a column store. */
export interface SpanRow {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  service: string
  name: string
  kind: SpanKindName
  startUs: number
  durationUs: number
  error: boolean
  /** `db.system.name` (or the older `db.system`) of a CLIENT span: the database it called. */
  dbSystem: string | undefined
}

export interface StoredEvent {
  name: string
  timeUs: number
  attributes: Attrs
  droppedAttributesCount?: number
}

export interface StoredLink {
  traceId: string
  spanId: string
  traceState?: string
  attributes: Attrs
  droppedAttributesCount?: number
}

export interface StoredSpan extends SpanRow {
  status: { code: StatusCodeName; message?: string }
  attributes: Attrs
  events: StoredEvent[]
  links: StoredLink[]
  /** Resource attributes; spans of one export share the object. */
  resource: Attrs
  scope?: { name: string; version?: string }
  traceState?: string
  droppedAttributesCount?: number
  droppedEventsCount?: number
  droppedLinksCount?: number
}

export const KIND_NAMES: readonly SpanKindName[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
]
