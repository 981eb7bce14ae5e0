/**
 * The span shape the analysis works on: the few fields it needs, in microseconds since the Unix
 * epoch. `fromStored` adapts the viewer API's spans (`startUs` + `durationUs`); OTLP JSON
 * (nanoseconds) is adapted by the caller.
 */

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer'

export interface AnalysisEvent {
  name: string
  timeUs: number
  attributes: Record<string, unknown>
}

export interface AnalysisSpan {
  traceId: string
  spanId: string
  parentSpanId?: string | undefined
  name: string
  kind: SpanKind
  service: string
  startUs: number
  endUs: number
  attributes: Record<string, unknown>
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string | undefined }
  events: AnalysisEvent[]
}

/** What the viewer's query API returns per span (a superset is fine). */
export interface StoredSpanLike {
  traceId: string
  spanId: string
  parentSpanId?: string | undefined
  name: string
  kind: string
  service: string
  startUs: number
  durationUs: number
  error?: boolean
  attributes?: Record<string, unknown>
  status?: { code: string; message?: string | undefined }
  events?: { name: string; timeUs: number; attributes?: Record<string, unknown> }[]
}

const KINDS = new Set<SpanKind>(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'])

export function fromStored(span: StoredSpanLike): AnalysisSpan {
  const kind = span.kind.toLowerCase() as SpanKind
  const code = span.status?.code === 'ERROR' || span.error ? 'ERROR' : span.status?.code === 'OK' ? 'OK' : 'UNSET'
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId || undefined,
    name: span.name,
    kind: KINDS.has(kind) ? kind : 'unspecified',
    service: span.service,
    startUs: span.startUs,
    endUs: span.startUs + Math.max(0, span.durationUs),
    attributes: span.attributes ?? {},
    status: { code, message: span.status?.message },
    events: (span.events ?? []).map((e) => ({ name: e.name, timeUs: e.timeUs, attributes: e.attributes ?? {} })),
  }
}

export function durationUs(span: AnalysisSpan): number {
  return span.endUs - span.startUs
}

export function isError(span: AnalysisSpan): boolean {
  return span.status.code === 'ERROR'
}
