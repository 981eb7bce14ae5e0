/** Spans with every OTLP field set, built through the real RecordingSpan, for the exporter tests. */
import { epochNanos } from '../src/clock.js'
import { spanLimitsFromEnv } from '../src/limits.js'
import type { Resource } from '../src/resource.js'
import {
  type InstrumentationScope,
  type ReadableSpan,
  RecordingSpan,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TraceState,
} from '../src/span.js'

export function traceState(serialized: string): TraceState {
  const state: TraceState = {
    get: () => undefined,
    set: () => state,
    unset: () => state,
    serialize: () => serialized,
  }
  return state
}

export const resource: Resource = Object.freeze({
  attributes: Object.freeze({
    'service.name': 'checkout',
    'service.version': '1.2.3',
    'process.pid': 4242,
    'host.name': 'box-1',
  }),
})
export const otherResource: Resource = Object.freeze({ attributes: Object.freeze({ 'service.name': 'billing' }) })

export const httpScope: InstrumentationScope = Object.freeze({ name: '@threadline/express', version: '0.1.0' })
export const pgScope: InstrumentationScope = Object.freeze({ name: '@threadline/pg', version: '0.1.0' })

function owner(res: Resource, scope: InstrumentationScope) {
  return { limits: spanLimitsFromEnv({ attributeCountLimit: 5, eventCountLimit: 2 }), resource: res, scope, onEnd() {} }
}

/** Three spans of one trace in two scopes, plus one of another resource. */
export function sampleSpans(): ReadableSpan[] {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const remoteParent: SpanContext = {
    traceId,
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
    traceState: traceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
  }
  const server = new RecordingSpan(
    owner(resource, httpScope),
    { traceId, spanId: 'a2fb4a1d1a96d312', traceFlags: 3, traceState: remoteParent.traceState },
    'GET /users/:id',
    SpanKind.SERVER,
    remoteParent,
    12.345678,
  )
  server.setAttributes({
    'http.request.method': 'GET',
    'http.route': '/users/:id',
    'http.response.status_code': 500,
    'server.port': 8080,
    'sample.ratio': 0.25,
    'dropped.one': 'over the count limit of 5',
  })
  server.setAttribute('sample.flags', true)
  server.addEvent('exception', {
    'exception.type': 'TypeError',
    'exception.message': 'ünïcødé — 例外',
    'exception.stacktrace': 'TypeError: boom\n    at handler (app.js:1:1)'.repeat(8),
  })
  server.addEvent('retry', { attempt: -3, tags: ['a', 'b'], ok: [true, false], scores: [1.5, 2] })
  server.addEvent('third event over the limit of 2')
  server.addLink({
    context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true },
    attributes: { 'link.reason': 'batch' },
  })
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'Internal Server Error' })

  const query = new RecordingSpan(
    owner(resource, pgScope),
    { traceId, spanId: '53995c3f42cd8ad8', traceFlags: 1 },
    'SELECT users',
    SpanKind.CLIENT,
    server.spanContext(),
    13.5,
  )
  query.setAttributes({
    'db.system.name': 'postgresql',
    'db.query.text': `SELECT * FROM users WHERE id = ? ${'x'.repeat(300)}`,
  })
  query.setStatus({ code: SpanStatusCode.OK })
  query.end(performance.timeOrigin + 14.75)

  const internal = new RecordingSpan(
    owner(resource, httpScope),
    { traceId, spanId: '1111111111111111', traceFlags: 1 },
    '',
    SpanKind.INTERNAL,
    server.spanContext(),
    13.1,
  )
  internal.end(performance.timeOrigin + 13.2)
  server.end(performance.timeOrigin + 20.000001)

  const other = new RecordingSpan(
    owner(otherResource, httpScope),
    { traceId: '5bf92f3577b34da6a3ce929d0e0e4736', spanId: '2222222222222222', traceFlags: 1 },
    'charge',
    SpanKind.PRODUCER,
    undefined,
    1_000_000.123456,
  )
  other.end(performance.timeOrigin + 1_000_001)
  return [server, query, internal, other]
}

const hrTime = (time: number): [number, number] => {
  const ns = epochNanos(time)
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]
}

/** The same spans as OpenTelemetry JS's ReadableSpan, for its serializer. */
export function asOtelSpans(spans: ReadableSpan[]): unknown[] {
  const resources = new Map<Resource, unknown>()
  return spans.map((span) => {
    let res = resources.get(span.resource)
    if (!res) {
      res = { attributes: span.resource.attributes, schemaUrl: undefined, asyncAttributesPending: false }
      resources.set(span.resource, res)
    }
    return {
      name: span.name,
      kind: span.kind,
      spanContext: () => span.spanContext(),
      parentSpanContext: span.parentSpanContext,
      startTime: hrTime(span.startTime),
      endTime: hrTime(span.endTime),
      status: span.status,
      attributes: span.attributes,
      links: span.links,
      events: span.events.map((e) => ({ ...e, time: hrTime(e.time) })),
      duration: [0, 0],
      ended: true,
      resource: res,
      instrumentationScope: span.scope,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
    }
  })
}
