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
import { describe, expect, it } from 'vitest'
import { ROOT_CONTEXT } from '../src/context.js'
import { getBaggage, setBaggage, w3cBaggagePropagator } from '../src/propagation/baggage.js'
import { headerGetter, headerSetter } from '../src/propagation/propagator.js'
import { createTraceState } from '../src/propagation/tracestate.js'
import { w3cTraceContextPropagator } from '../src/propagation/w3c.js'
import { NonRecordingSpan } from '../src/span.js'
import { contextWithSpan, spanContextFrom } from '../src/trace-context.js'

// A service traced by OpenTelemetry and one traced by Threadline share one trace: each reads
// what the other writes (OpenTelemetry JS's W3C propagators, @opentelemetry/core 2.x).
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
