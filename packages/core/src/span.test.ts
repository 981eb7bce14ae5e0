import { afterEach, describe, expect, it, vi } from 'vitest'
import { logFields, recordError, startSpan, trace } from './api.js'
import { epochNanos } from './clock.js'
import { MemoryExporter } from './export/memory.js'
import { init, shutdown } from './sdk.js'
import { SpanKind, SpanStatusCode } from './span.js'
import { stats } from './stats.js'

let exporter: MemoryExporter
function start(options: Parameters<typeof init>[0] = {}) {
  exporter = new MemoryExporter()
  init({ exporter, batch: false, propagators: ['none'], ...options })
}
afterEach(() => shutdown())

describe('span model', () => {
  it('records name, kind, attributes, events, links and status', async () => {
    start({ serviceName: 'checkout', serviceVersion: '1.2.3' })
    const linked = startSpan('other')
    linked.end()
    const span = startSpan('charge card', { kind: SpanKind.CLIENT, attributes: { 'payment.provider': 'acme' } })
    span.setAttribute('amount', 12.5).setAttributes({ currency: 'EUR', tags: ['a', 'b'] })
    span.addEvent('retry', { attempt: 2 })
    span.addLink({ context: linked.spanContext(), attributes: { reason: 'batch' } })
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'declined' })
    span.updateName('charge credit card')
    span.end()
    const out = exporter.getByName('charge credit card')
    expect(out.kind).toBe(SpanKind.CLIENT)
    expect(out.attributes).toEqual({ 'payment.provider': 'acme', amount: 12.5, currency: 'EUR', tags: ['a', 'b'] })
    expect(out.events.map((e) => [e.name, e.attributes])).toEqual([['retry', { attempt: 2 }]])
    expect(out.links[0]?.context.spanId).toBe(linked.spanContext().spanId)
    expect(out.status).toEqual({ code: SpanStatusCode.ERROR, message: 'declined' })
    expect(out.resource.attributes).toMatchObject({
      'service.name': 'checkout',
      'service.version': '1.2.3',
      'telemetry.sdk.name': 'threadline',
      'telemetry.sdk.language': 'nodejs',
      'process.runtime.name': 'nodejs',
    })
    expect(out.scope.name).toBe('@threadline/core')
  })

  it('orders times correctly and anchors them to the epoch with sub-ms precision', async () => {
    start()
    const before = BigInt(Date.now()) * 1_000_000n
    const a = startSpan('a')
    const b = startSpan('b')
    b.end()
    a.end()
    const after = BigInt(Date.now() + 1) * 1_000_000n
    const [sb, sa] = exporter.getFinishedSpans()
    expect(sa!.startTime).toBeLessThanOrEqual(sb!.startTime)
    expect(sb!.endTime).toBeLessThanOrEqual(sa!.endTime)
    const startNs = epochNanos(sa!.startTime)
    // performance.timeOrigin and Date.now() may disagree by a few ms on a busy machine
    expect(startNs).toBeGreaterThan(before - 50_000_000n)
    expect(startNs).toBeLessThan(after + 50_000_000n)
    expect(sa!.endTime - sa!.startTime).toBeGreaterThanOrEqual(0)
  })

  it('ignores calls after end, counts them, and never throws', () => {
    start()
    const span = startSpan('done')
    span.end()
    const before = stats().callsOnEndedSpans
    span.setAttribute('late', 1)
    span.addEvent('late')
    span.setStatus({ code: SpanStatusCode.ERROR })
    span.updateName('renamed')
    span.recordException(new Error('late'))
    span.end()
    expect(stats().callsOnEndedSpans - before).toBe(6)
    const out = exporter.getByName('done')
    expect(out.attributes).toEqual({})
    expect(out.status.code).toBe(SpanStatusCode.UNSET)
    expect(exporter.getFinishedSpans()).toHaveLength(1)
  })

  it('follows OTel status rules: UNSET ignored, OK final, message only with ERROR', () => {
    start()
    const span = startSpan('s')
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' })
    span.setStatus({ code: SpanStatusCode.UNSET })
    expect((span as unknown as { status: unknown }).status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' })
    span.setStatus({ code: SpanStatusCode.OK, message: 'ignored' })
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'after ok' })
    span.end()
    expect(exporter.getByName('s').status).toEqual({ code: SpanStatusCode.OK })
  })

  it('drops invalid attribute values and keeps homogeneous arrays', () => {
    start()
    const span = startSpan('s')
    span.setAttribute('obj', { nested: true } as never)
    span.setAttribute('mixed', [1, 'a'] as never)
    span.setAttribute('fn', (() => 1) as never)
    span.setAttribute('nulls', ['a', null, 'b'])
    span.setAttribute('undef', undefined)
    span.end()
    const out = exporter.getByName('s')
    expect(out.attributes).toEqual({ nulls: ['a', null, 'b'] })
    expect(out.droppedAttributesCount).toBe(3)
  })

  it('applies attribute count and value length limits (OTEL_*_LIMIT defaults and overrides)', () => {
    start({ limits: { attributeCountLimit: 3, attributeValueLengthLimit: 5, eventCountLimit: 2, linkCountLimit: 1 } })
    const span = startSpan('limited')
    for (let i = 0; i < 10; i++) span.setAttribute(`k${i}`, 'abcdefghij')
    span.setAttribute('k0', 'replaced value')
    span.setAttribute('arr', ['123456789'])
    for (let i = 0; i < 4; i++) span.addEvent(`e${i}`)
    span.addLinks([{ context: span.spanContext() }, { context: span.spanContext() }])
    span.end()
    const out = exporter.getByName('limited')
    expect(out.attributes).toEqual({ k0: 'repla', k1: 'abcde', k2: 'abcde' })
    expect(out.droppedAttributesCount).toBe(8)
    expect(out.events).toHaveLength(2)
    expect(out.droppedEventsCount).toBe(2)
    expect(out.links).toHaveLength(1)
    expect(out.droppedLinksCount).toBe(1)
  })

  it('reads limits from the OpenTelemetry environment variables', () => {
    vi.stubEnv('OTEL_ATTRIBUTE_COUNT_LIMIT', '2')
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', '3')
    try {
      start()
      const span = startSpan('env')
      span.setAttributes({ a: 'xxxxx', b: 'y', c: 'z' })
      span.end()
      expect(exporter.getByName('env').attributes).toEqual({ a: 'xxx', b: 'y' })
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('keeps a huge attribute value from growing without bound when a length limit is set', () => {
    start({ limits: { attributeValueLengthLimit: 1024 } })
    const span = startSpan('big')
    span.setAttribute('body', 'x'.repeat(10_000_000))
    span.end()
    expect((exporter.getByName('big').attributes.body as string).length).toBe(1024)
  })

  it('records exceptions with type, message and stack, and error status via trace()', async () => {
    start()
    class PaymentError extends Error {
      override name = 'PaymentError'
    }
    await expect(
      trace('pay', async () => {
        throw new PaymentError('card declined')
      }),
    ).rejects.toThrow('card declined')
    expect(() =>
      trace('sync', () => {
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })
      }),
    ).toThrow('refused')
    const pay = exporter.getByName('pay')
    expect(pay.status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined' })
    expect(pay.attributes['error.type']).toBe('PaymentError')
    const event = pay.events[0]!
    expect(event.name).toBe('exception')
    expect(event.attributes['exception.type']).toBe('PaymentError')
    expect(event.attributes['exception.message']).toBe('card declined')
    expect(String(event.attributes['exception.stacktrace'])).toContain('span.test.ts')
    expect(exporter.getByName('sync').attributes['error.type']).toBe('ECONNREFUSED')
  })

  it('records non-Error throwables safely', () => {
    start()
    const span = startSpan('odd')
    recordError(span, 'a string')
    recordError(span, { weird: true })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    recordError(span, circular)
    span.end()
    expect(exporter.getByName('odd').events.map((e) => e.attributes['exception.message'])).toEqual([
      'a string',
      '{"weird":true}',
      '[object Object]',
    ])
  })

  it('returns the function’s value from trace(), sync and async', async () => {
    start()
    expect(trace('sync', () => 42)).toBe(42)
    await expect(trace('async', async () => 'ok')).resolves.toBe('ok')
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['sync', 'async'])
  })

  it('gives log correlation fields for the active span', () => {
    start()
    expect(logFields()).toEqual({})
    trace('log', (span) => {
      expect(logFields()).toEqual({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        trace_flags: '01',
      })
    })
  })

  it('records nothing before init and after shutdown, and never throws', async () => {
    await shutdown()
    const span = startSpan('not started')
    expect(span.isRecording()).toBe(false)
    span.setAttribute('a', 1).end()
    expect(trace('still runs', () => 7)).toBe(7)
  })

  it('is disabled by OTEL_SDK_DISABLED', () => {
    vi.stubEnv('OTEL_SDK_DISABLED', 'true')
    try {
      start()
      const span = startSpan('off')
      expect(span.isRecording()).toBe(false)
      span.end()
      expect(exporter.getFinishedSpans()).toHaveLength(0)
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
