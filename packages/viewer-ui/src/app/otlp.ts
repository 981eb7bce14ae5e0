import type { ApiSpan } from './api.js'

/** OTLP/JSON (the protobuf JSON mapping: hex ids, nanosecond strings, AnyValue) to and from the API's span shape. */

type AnyValue = Record<string, unknown>
const KIND_NUMBERS: Record<string, number> = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
}
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']
const STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const

function encodeValue(value: unknown): AnyValue {
  if (typeof value === 'string') return { stringValue: value }
  if (typeof value === 'boolean') return { boolValue: value }
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }
  if (Array.isArray(value)) return { arrayValue: { values: value.map(encodeValue) } }
  if (value && typeof value === 'object')
    return { kvlistValue: { values: encodeAttributes(value as Record<string, unknown>) } }
  return {}
}

function encodeAttributes(attributes: Record<string, unknown>): { key: string; value: AnyValue }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: encodeValue(value) }))
}

function nanos(us: number): string {
  return (BigInt(Math.round(us)) * 1000n).toString()
}

export function toOtlpJson(spans: readonly ApiSpan[]): unknown {
  const byResource = new Map<
    string,
    { resource: Record<string, unknown>; scopes: Map<string, { scope: ApiSpan['scope']; spans: unknown[] }> }
  >()
  for (const span of spans) {
    const resource = { 'service.name': span.service, ...span.resource }
    const key = JSON.stringify(resource)
    let entry = byResource.get(key)
    if (!entry) {
      entry = { resource, scopes: new Map() }
      byResource.set(key, entry)
    }
    const scopeKey = JSON.stringify(span.scope ?? {})
    let scope = entry.scopes.get(scopeKey)
    if (!scope) {
      scope = { scope: span.scope, spans: [] }
      entry.scopes.set(scopeKey, scope)
    }
    scope.spans.push({
      traceId: span.traceId,
      spanId: span.spanId,
      ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
      name: span.name,
      kind: KIND_NUMBERS[span.kind] ?? 0,
      startTimeUnixNano: nanos(span.startUs),
      endTimeUnixNano: nanos(span.startUs + span.durationUs),
      attributes: encodeAttributes(span.attributes),
      events: span.events.map((e) => ({
        timeUnixNano: nanos(e.timeUs),
        name: e.name,
        attributes: encodeAttributes(e.attributes),
      })),
      links: span.links.map((l) => ({
        traceId: l.traceId,
        spanId: l.spanId,
        attributes: encodeAttributes(l.attributes),
      })),
      status: { code: STATUS[span.status.code] ?? 0, ...(span.status.message ? { message: span.status.message } : {}) },
    })
  }
  return {
    resourceSpans: [...byResource.values()].map(({ resource, scopes }) => ({
      resource: { attributes: encodeAttributes(resource) },
      scopeSpans: [...scopes.values()].map(({ scope, spans }) => ({ ...(scope ? { scope } : {}), spans })),
    })),
  }
}

function decodeValue(value: unknown): unknown {
  if (!value || typeof value !== 'object') return null
  const v = value as Record<string, unknown>
  if ('stringValue' in v) return String(v.stringValue)
  if ('boolValue' in v) return Boolean(v.boolValue)
  if ('intValue' in v) {
    const n = Number(v.intValue)
    return Number.isSafeInteger(n) ? n : String(v.intValue)
  }
  if ('doubleValue' in v) return Number(v.doubleValue)
  if ('arrayValue' in v) return ((v.arrayValue as { values?: unknown[] })?.values ?? []).map(decodeValue)
  if ('kvlistValue' in v) return decodeAttributes((v.kvlistValue as { values?: unknown[] })?.values)
  if ('bytesValue' in v) return String(v.bytesValue)
  return null
}

function decodeAttributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (!Array.isArray(list)) return out
  for (const item of list) {
    if (item && typeof item === 'object' && typeof (item as { key?: unknown }).key === 'string') {
      out[(item as { key: string }).key] = decodeValue((item as { value?: unknown }).value)
    }
  }
  return out
}

function micros(value: unknown): number {
  if (typeof value === 'number') return value / 1000
  if (typeof value === 'string' && /^\d+$/.test(value))
    return Number(BigInt(value) / 1000n) + Number(BigInt(value) % 1000n) / 1000
  return 0
}

function kindName(kind: unknown): string {
  if (typeof kind === 'number') return KIND_NAMES[kind] ?? 'unspecified'
  if (typeof kind === 'string') return kind.replace(/^SPAN_KIND_/, '').toLowerCase()
  return 'unspecified'
}

function statusName(code: unknown): 'UNSET' | 'OK' | 'ERROR' {
  if (code === 2 || code === 'STATUS_CODE_ERROR' || code === 'ERROR') return 'ERROR'
  if (code === 1 || code === 'STATUS_CODE_OK' || code === 'OK') return 'OK'
  return 'UNSET'
}

/** Reads an OTLP/JSON export (or the viewer API's `{ spans }`); throws a readable error otherwise. */
export function fromOtlpJson(text: string): ApiSpan[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new Error('not JSON: expected an OTLP/JSON trace export ({"resourceSpans": [...]})')
  }
  const d = doc as { resourceSpans?: unknown; spans?: unknown }
  if (Array.isArray(d.spans)) return d.spans as ApiSpan[]
  if (!Array.isArray(d.resourceSpans)) throw new Error('no "resourceSpans": expected an OTLP/JSON trace export')
  const spans: ApiSpan[] = []
  for (const rs of d.resourceSpans as Record<string, unknown>[]) {
    const resource = decodeAttributes((rs.resource as { attributes?: unknown } | undefined)?.attributes)
    const service =
      typeof resource['service.name'] === 'string' ? (resource['service.name'] as string) : 'unknown_service'
    for (const ss of (rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) as Record<string, unknown>[]) {
      const scope = ss.scope as ApiSpan['scope']
      for (const s of (ss.spans ?? []) as Record<string, unknown>[]) {
        const startUs = micros(s.startTimeUnixNano)
        const status = (s.status ?? {}) as { code?: unknown; message?: string }
        spans.push({
          traceId: String(s.traceId ?? '').toLowerCase(),
          spanId: String(s.spanId ?? '').toLowerCase(),
          parentSpanId: s.parentSpanId ? String(s.parentSpanId).toLowerCase() : undefined,
          name: String(s.name ?? ''),
          kind: kindName(s.kind),
          service,
          startUs,
          durationUs: Math.max(0, micros(s.endTimeUnixNano) - startUs),
          error: statusName(status.code) === 'ERROR',
          status: { code: statusName(status.code), ...(status.message ? { message: status.message } : {}) },
          attributes: decodeAttributes(s.attributes),
          events: ((s.events ?? []) as Record<string, unknown>[]).map((e) => ({
            name: String(e.name ?? ''),
            timeUs: micros(e.timeUnixNano),
            attributes: decodeAttributes(e.attributes),
          })),
          links: ((s.links ?? []) as Record<string, unknown>[]).map((l) => ({
            traceId: String(l.traceId ?? ''),
            spanId: String(l.spanId ?? ''),
            attributes: decodeAttributes(l.attributes),
          })),
          resource,
          ...(scope ? { scope } : {}),
        })
      }
    }
  }
  if (!spans.length) throw new Error('the file holds no spans')
  return spans
}

/** Traces opened from a file: kept in this tab only, under their trace id. */
export const importedTraces = new Map<string, ApiSpan[]>()

export function downloadJson(filename: string, value: unknown): void {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
