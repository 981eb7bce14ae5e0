import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT as OTEL_ROOT,
  TraceFlags as OtelTraceFlags,
  propagation as otelPropagation,
  trace as otelTrace,
} from '@opentelemetry/api'
import { TraceState as OtelTraceState, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray'
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3'
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger'
import { describe, expect, it } from 'vitest'
import { ROOT_CONTEXT } from '../src/context.js'
import { b3Propagator } from '../src/propagation/b3.js'
import { getBaggage, setBaggage, w3cBaggagePropagator } from '../src/propagation/baggage.js'
import { jaegerPropagator } from '../src/propagation/jaeger.js'
import { headerGetter, headerSetter } from '../src/propagation/propagator.js'
import { createTraceState } from '../src/propagation/tracestate.js'
import { w3cTraceContextPropagator } from '../src/propagation/w3c.js'
import { xrayPropagator } from '../src/propagation/xray.js'
import { NonRecordingSpan } from '../src/span.js'
import { contextWithSpan, spanContextFrom } from '../src/trace-context.js'

// A service traced by OpenTelemetry and one traced by Threadline share one trace: each reads
// what the other writes (OpenTelemetry JS's W3C, B3, Jaeger and X-Ray propagators).
const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SID = '00f067aa0ba902b7'
const otelW3c = new W3CTraceContextPropagator()
const otelBaggage = new W3CBaggagePropagator()

describe('interop with OpenTelemetry JS', () => {
  it('OpenTelemetry → Threadline: traceparent, tracestate and baggage', () => {
    let ctx = otelTrace.setSpanContext(OTEL_ROOT, {
      traceId: TID,
      spanId: SID,
      traceFlags: OtelTraceFlags.SAMPLED,
      traceState: new OtelTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'),
    })
    ctx = otelPropagation.setBaggage(ctx, otelPropagation.createBaggage({ user: { value: 'J ü' } }))
    const headers: Record<string, string> = {}
    otelW3c.inject(ctx, headers, defaultTextMapSetter)
    otelBaggage.inject(ctx, headers, defaultTextMapSetter)
    const ours = w3cBaggagePropagator.extract(
      w3cTraceContextPropagator.extract(ROOT_CONTEXT, headers, headerGetter),
      headers,
      headerGetter,
    )
    const sc = spanContextFrom(ours)
    expect(sc).toMatchObject({ traceId: TID, spanId: SID, traceFlags: 1 })
    expect(sc?.traceState?.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')
    expect(getBaggage(ours).get('user')?.value).toBe('J ü')
  })

  it('Threadline → OpenTelemetry: traceparent, tracestate and baggage', () => {
    const span = new NonRecordingSpan({
      traceId: TID,
      spanId: SID,
      traceFlags: 3,
      traceState: createTraceState('a=1,b@c=2'),
    })
    const ctx = setBaggage(contextWithSpan(ROOT_CONTEXT, span), {
      user: 'J ü',
      tenant: { value: 'x', metadata: 'p=1' },
    })
    const headers: Record<string, string> = {}
    w3cTraceContextPropagator.inject(ctx, headers, headerSetter)
    w3cBaggagePropagator.inject(ctx, headers, headerSetter)
    const theirs = otelBaggage.extract(
      otelW3c.extract(OTEL_ROOT, headers, defaultTextMapGetter),
      headers,
      defaultTextMapGetter,
    )
    const sc = otelTrace.getSpanContext(theirs)
    expect(sc).toMatchObject({ traceId: TID, spanId: SID, isRemote: true })
    expect((sc?.traceFlags ?? 0) & 1).toBe(1)
    expect(sc?.traceState?.get('b@c')).toBe('2')
    const baggage = otelPropagation.getBaggage(theirs)
    expect(baggage?.getEntry('user')?.value).toBe('J ü')
    expect(baggage?.getEntry('tenant')?.value).toBe('x')
  })
})

describe('real Node IncomingHttpHeaders', () => {
  async function headersSeenByServer(headers: Record<string, string | string[]>): Promise<http.IncomingHttpHeaders> {
    let seen: http.IncomingHttpHeaders = {}
    const server = http.createServer((req, res) => {
      seen = req.headers
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    await new Promise<void>((resolve, reject) => {
      http
        .request({ host: '127.0.0.1', port, headers }, (res) => {
          res.resume()
          res.on('end', resolve)
        })
        .on('error', reject)
        .end()
    })
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return seen
  }

  it('W3C §3.3.1: repeated tracestate headers are combined in order', async () => {
    const headers = await headersSeenByServer({ traceparent: `00-${TID}-${SID}-01`, tracestate: ['a=1,b=2', 'c=3'] })
    const sc = spanContextFrom(w3cTraceContextPropagator.extract(ROOT_CONTEXT, headers, headerGetter))
    expect(sc?.traceState?.serialize()).toBe('a=1,b=2,c=3')
  })

  it('W3C §3.2: two traceparent headers start a new trace', async () => {
    const headers = await headersSeenByServer({ traceparent: [`00-${TID}-${SID}-01`, `00-${TID}-${SID}-00`] })
    expect(spanContextFrom(w3cTraceContextPropagator.extract(ROOT_CONTEXT, headers, headerGetter))).toBeUndefined()
  })

  it('W3C baggage §3: repeated baggage headers are combined', async () => {
    const headers = await headersSeenByServer({ baggage: ['a=1', 'b=2'] })
    const ctx = w3cBaggagePropagator.extract(ROOT_CONTEXT, headers, headerGetter)
    expect([...getBaggage(ctx).keys()]).toEqual(['a', 'b'])
  })
})

describe.each([
  ['B3 single header', () => new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }), b3Propagator()],
  [
    'B3 multi header',
    () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
    b3Propagator({ injectEncoding: 'multi' }),
  ],
  ['Jaeger', () => new JaegerPropagator(), jaegerPropagator()],
  ['AWS X-Ray', () => new AWSXRayPropagator(), xrayPropagator()],
] as const)('interop with OpenTelemetry JS: %s', (_, theirsFactory, ours) => {
  const theirs = theirsFactory()
  const XRAY_TID = '5759e988bd862e3fe1be46a994272793'

  it.each([1, 0])('OpenTelemetry → Threadline (sampled=%i)', (sampled) => {
    const headers: Record<string, string> = {}
    const ctx = otelTrace.setSpanContext(OTEL_ROOT, {
      traceId: XRAY_TID,
      spanId: SID,
      traceFlags: sampled,
      isRemote: false,
    })
    theirs.inject(ctx, headers, defaultTextMapSetter)
    expect(Object.keys(headers).length).toBeGreaterThan(0)
    const sc = spanContextFrom(ours.extract(ROOT_CONTEXT, headers, headerGetter))
    expect(sc).toMatchObject({ traceId: XRAY_TID, spanId: SID, traceFlags: sampled })
  })

  it.each([1, 0])('Threadline → OpenTelemetry (sampled=%i)', (sampled) => {
    const headers: Record<string, string> = {}
    ours.inject(
      contextWithSpan(ROOT_CONTEXT, new NonRecordingSpan({ traceId: XRAY_TID, spanId: SID, traceFlags: sampled | 2 })),
      headers,
      headerSetter,
    )
    const sc = otelTrace.getSpanContext(theirs.extract(OTEL_ROOT, headers, defaultTextMapGetter))
    expect(sc).toMatchObject({ traceId: XRAY_TID, spanId: SID, isRemote: true })
    expect((sc?.traceFlags ?? 0) & 1).toBe(sampled)
  })
})

describe('interop with OpenTelemetry JS: Jaeger baggage (uberctx-)', () => {
  it('both ways', () => {
    const theirs = new JaegerPropagator()
    const ours = jaegerPropagator()
    const headers: Record<string, string> = {}
    theirs.inject(
      otelPropagation.setBaggage(OTEL_ROOT, otelPropagation.createBaggage({ user: { value: 'J ü' } })),
      headers,
      defaultTextMapSetter,
    )
    const ctx = ours.extract(ROOT_CONTEXT, headers, headerGetter)
    expect(getBaggage(ctx).get('user')?.value).toBe('J ü')
    const back: Record<string, string> = {}
    ours.inject(setBaggage(ROOT_CONTEXT, { tenant: 'a b' }), back, headerSetter)
    expect(
      otelPropagation.getBaggage(theirs.extract(OTEL_ROOT, back, defaultTextMapGetter))?.getEntry('tenant')?.value,
    ).toBe('a b')
  })
})
