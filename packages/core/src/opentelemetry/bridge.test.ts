import * as api from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { activeSpan, extract, inject, trace } from '../api.js'
import { ROOT_CONTEXT, withContext } from '../context.js'
import { MemoryExporter } from '../export/memory.js'
import { getBaggage, setBaggage } from '../propagation/baggage.js'
import { init, shutdown } from '../sdk.js'
import { SpanKind, SpanStatusCode } from '../span.js'
import { registerOpenTelemetry } from './index.js'

let exporter: MemoryExporter
let unregister: () => void
beforeAll(() => {
  unregister = registerOpenTelemetry()
})
afterAll(() => unregister())
beforeEach(() => {
  exporter = new MemoryExporter()
  init({ serviceName: 'bridge', exporter, batch: false })
})
afterEach(() => shutdown())

const otel = () => api.trace.getTracer('some-library', '1.0.0')

describe('OpenTelemetry API bridge', () => {
  it('parents an OTel-API span under the active Threadline span', () => {
    trace(
      'GET /users/:id',
      () => {
        otel().startActiveSpan('library work', (span) => {
          expect(api.trace.getActiveSpan()).toBe(span)
          span.end()
        })
      },
      { kind: SpanKind.SERVER },
    )
    const request = exporter.getByName('GET /users/:id')
    const lib = exporter.getByName('library work')
    expect(lib.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(lib.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(lib.scope).toEqual({ name: 'some-library', version: '1.0.0' })
  })

  it('parents a Threadline span under the active OTel-API span', () => {
    otel().startActiveSpan('otel parent', (parent) => {
      expect(activeSpan()).toBe(parent)
      trace('threadline child', () => {})
      parent.end()
    })
    const parent = exporter.getByName('otel parent')
    expect(exporter.getByName('threadline child').parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
  })

  it('sees the Threadline span through trace.getActiveSpan and context.with', () => {
    trace('outer', (outer) => {
      expect(api.trace.getActiveSpan()).toBe(outer)
      const detached = otel().startSpan('detached', { root: true })
      api.context.with(api.trace.setSpan(api.context.active(), detached), () => {
        expect(activeSpan()).toBe(detached)
        otel().startSpan('inside detached').end()
      })
      expect(api.trace.getActiveSpan()).toBe(outer)
      detached.end()
    })
    expect(exporter.getByName('inside detached').parentSpanContext?.spanId).toBe(
      exporter.getByName('detached').spanContext().spanId,
    )
    expect(exporter.getByName('detached').parentSpanContext).toBeUndefined()
  })

  it('records links, events, status and HrTime timestamps given through the OTel API', () => {
    const linked = otel().startSpan('linked')
    linked.end()
    const now = Date.now()
    const span = otel().startSpan('rich', {
      kind: api.SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql' },
      links: [{ context: linked.spanContext() }],
      startTime: [Math.floor(now / 1000), (now % 1000) * 1e6],
    })
    span.addEvent('retry', { attempt: 1 })
    span.recordException(new Error('timeout'))
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'timeout' })
    span.end()
    const out = exporter.getByName('rich')
    expect(out.kind).toBe(SpanKind.CLIENT)
    expect(out.links[0]?.context.spanId).toBe(linked.spanContext().spanId)
    expect(out.events.map((e) => e.name)).toEqual(['retry', 'exception'])
    expect(out.status).toEqual({ code: SpanStatusCode.ERROR, message: 'timeout' })
    expect(out.attributes['db.system.name']).toBe('postgresql')
  })

  it('injects and extracts through propagation.inject/extract with Threadline’s propagators', () => {
    const headers: Record<string, string> = {}
    trace('client', (span) => {
      api.propagation.inject(api.context.active(), headers)
      expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-03`)
    })
    const ctx = api.propagation.extract(api.ROOT_CONTEXT, headers)
    expect(api.trace.getSpanContext(ctx)?.traceId).toBe(exporter.getByName('client').spanContext().traceId)
    // and the other way: Threadline's extract is readable by the OTel API
    const ours = extract(headers)
    expect(api.trace.getSpanContext(ours as api.Context)?.spanId).toBe(
      exporter.getByName('client').spanContext().spanId,
    )
  })

  it('shares baggage both ways', () => {
    const bag = api.propagation.createBaggage({ tenant: { value: 'acme' } })
    const ctx = api.propagation.setBaggage(api.context.active(), bag)
    expect(getBaggage(ctx as never).get('tenant')?.value).toBe('acme')
    const headers: Record<string, string> = {}
    withContext(ctx as never, () => inject(headers))
    expect(headers.baggage).toBe('tenant=acme')
    const ours = setBaggage(ROOT_CONTEXT, { region: 'eu' })
    expect(api.propagation.getBaggage(ours as api.Context)?.getEntry('region')?.value).toBe('eu')
  })
})
