import type { Attrs, SpanKindName, StoredEvent } from '../model.js'
import { accept, cleanValue, type DecodeResult, LIMITS, newResult, reject } from './limits.js'

/**
 * Zipkin v2 JSON (zipkin-api.yaml, `ListOfSpans`). 64-bit trace ids are left-padded to 128 bits,
 * as OpenTelemetry's Zipkin exporter does, so a trace keeps one id across both worlds.
 */
export function decodeZipkinJson(text: string): DecodeResult | string {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    return `malformed JSON: ${(error as Error).message}`
  }
  if (!Array.isArray(doc)) return 'expected a JSON array of Zipkin v2 spans'
  const result = newResult()
  for (const span of doc) {
    if (typeof span !== 'object' || span === null || Array.isArray(span)) {
      reject(result, 'span is not an object')
      continue
    }
    decodeSpan(result, span as Record<string, unknown>)
  }
  return result
}

const KINDS: Record<string, SpanKindName> = {
  CLIENT: 'client',
  SERVER: 'server',
  PRODUCER: 'producer',
  CONSUMER: 'consumer',
}

function decodeSpan(result: DecodeResult, span: Record<string, unknown>): void {
  const local = objectOr(span['localEndpoint'])
  const remote = objectOr(span['remoteEndpoint'])
  const resource: Attrs = {}
  if (typeof local['serviceName'] === 'string' && local['serviceName']) {
    resource['service.name'] = local['serviceName'].slice(0, 256)
  }
  const attributes: Attrs = {}
  let dropped = 0
  let n = 0
  const tags = objectOr(span['tags'])
  for (const key in tags) {
    if (n >= LIMITS.attributes) {
      dropped++
      continue
    }
    const value = cleanValue(tags[key])
    if (value === undefined || key === '') continue
    attributes[key.slice(0, LIMITS.nameLength)] = value
    n++
  }
  if (typeof local['ipv4'] === 'string' && !('network.local.address' in attributes)) {
    attributes['network.local.address'] = local['ipv4'].slice(0, 64)
  }
  if (typeof remote['serviceName'] === 'string' && remote['serviceName'] && !('peer.service' in attributes)) {
    attributes['peer.service'] = remote['serviceName'].slice(0, 256)
  }
  const remoteAddress = remote['ipv4'] ?? remote['ipv6']
  if (typeof remoteAddress === 'string' && !('network.peer.address' in attributes)) {
    attributes['network.peer.address'] = remoteAddress.slice(0, 64)
  }
  if (typeof remote['port'] === 'number' && !('network.peer.port' in attributes)) {
    attributes['network.peer.port'] = remote['port']
  }
  const events: StoredEvent[] = []
  let droppedEvents = 0
  if (Array.isArray(span['annotations'])) {
    for (const a of span['annotations']) {
      const annotation = objectOr(a)
      if (events.length >= LIMITS.events) {
        droppedEvents++
        continue
      }
      const time = Number(annotation['timestamp'])
      if (!Number.isFinite(time)) continue
      events.push({ name: String(annotation['value'] ?? '').slice(0, LIMITS.nameLength), timeUs: time, attributes: {} })
    }
  }
  const errorTag = tags['error']
  const otelStatus = tags['otel.status_code']
  const isError = errorTag !== undefined || otelStatus === 'ERROR'
  const kind = typeof span['kind'] === 'string' ? (KINDS[span['kind']] ?? 'internal') : 'internal'
  let spanId = lowerId(span['id'])
  let parentSpanId = lowerId(span['parentId'])
  // A Zipkin server span "shared" with its client has the client's span id; give it its own id
  // (deterministic, so a retried batch still de-duplicates) and make the client its parent.
  if (span['shared'] === true && kind === 'server' && /^[0-9a-f]{16}$/.test(spanId)) {
    parentSpanId = spanId
    spanId = sharedServerId(spanId)
  }
  const traceId = lowerId(span['traceId'])
  const description = typeof errorTag === 'string' && errorTag ? errorTag : tags['otel.status_description']
  accept(result, {
    traceId: traceId.length === 16 ? `0000000000000000${traceId}` : traceId,
    spanId,
    parentSpanId: parentSpanId === '' ? undefined : parentSpanId,
    name: typeof span['name'] === 'string' ? span['name'] : '',
    kind,
    startUs: Number(span['timestamp']),
    durationUs: span['duration'] === undefined ? 0 : Number(span['duration']),
    status: isError
      ? {
          code: 'ERROR',
          ...(typeof description === 'string' && description ? { message: description.slice(0, 1024) } : {}),
        }
      : { code: otelStatus === 'OK' ? 'OK' : 'UNSET' },
    attributes,
    events,
    links: [],
    resource,
    ...(dropped ? { droppedAttributesCount: dropped } : {}),
    ...(droppedEvents ? { droppedEventsCount: droppedEvents } : {}),
  })
}

function sharedServerId(id: string): string {
  const flipped = BigInt(`0x${id}`) ^ 0x5bd1e9955bd1e995n
  return flipped.toString(16).padStart(16, '0')
}

function lowerId(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 64).toLowerCase() : ''
}

function objectOr(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}
