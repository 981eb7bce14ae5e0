// Per request hop: extract a typical traceparent + tracestate from incoming headers, then inject
// that context into outgoing headers. Threadline's W3C propagator vs OpenTelemetry's
// W3CTraceContextPropagator (@opentelemetry/core 2.x), plus a baseline that only copies the two
// headers (the floor), in one run, alternating rounds, medians reported.
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT as OTEL_ROOT } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import * as tl from '../packages/core/dist/index.mjs'

const OPS = 200_000
const ROUNDS = 15

// What a service behind an OpenTelemetry-traced or Threadline-traced caller receives.
const incoming = {
  host: 'orders.internal:8080',
  'user-agent': 'node',
  accept: '*/*',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:8;rv:9b8233f7e3a151',
}

const tlPropagator = tl.w3cTraceContextPropagator
function threadlineRun(n) {
  let sink = 0
  for (let i = 0; i < n; i++) {
    const ctx = tlPropagator.extract(tl.ROOT_CONTEXT, incoming, tl.headerGetter)
    const out = {}
    tlPropagator.inject(ctx, out, tl.headerSetter)
    sink += out.traceparent.length + out.tracestate.length
  }
  return sink
}

const otelPropagator = new W3CTraceContextPropagator()
function otelRun(n) {
  let sink = 0
  for (let i = 0; i < n; i++) {
    const ctx = otelPropagator.extract(OTEL_ROOT, incoming, defaultTextMapGetter)
    const out = {}
    otelPropagator.inject(ctx, out, defaultTextMapSetter)
    sink += out.traceparent.length + out.tracestate.length
  }
  return sink
}

// The floor: read both headers and write them unchanged (no parsing, no validation).
function copyRun(n) {
  let sink = 0
  for (let i = 0; i < n; i++) {
    const out = {}
    out.traceparent = incoming.traceparent
    out.tracestate = incoming.tracestate
    sink += out.traceparent.length + out.tracestate.length
  }
  return sink
}

// Both must produce the same headers, or the comparison means nothing.
{
  const a = {}
  tlPropagator.inject(tlPropagator.extract(tl.ROOT_CONTEXT, incoming, tl.headerGetter), a, tl.headerSetter)
  const b = {}
  otelPropagator.inject(otelPropagator.extract(OTEL_ROOT, incoming, defaultTextMapGetter), b, defaultTextMapSetter)
  if (a.traceparent !== b.traceparent || a.tracestate !== b.tracestate) {
    console.error('outputs differ', a, b)
    process.exit(1)
  }
}

function measure(fn, n) {
  globalThis.gc?.()
  const t0 = process.hrtime.bigint()
  if (fn(n) === 0) throw new Error('no work done')
  return Number(process.hrtime.bigint() - t0) / n
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const runs = { threadline: threadlineRun, otel: otelRun, copy: copyRun }
const results = { threadline: [], otel: [], copy: [] }

for (const fn of Object.values(runs)) fn(50_000) // warm-up
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ['threadline', 'otel', 'copy'] : ['copy', 'otel', 'threadline']
  for (const name of order) results[name].push(measure(runs[name], OPS))
}

const tlNs = median(results.threadline)
const otelNs = median(results.otel)
const copyNs = median(results.copy)
console.log(`extract + inject of traceparent + tracestate (3 members); ${OPS} ops x ${ROUNDS} rounds, medians`)
console.log('condition                                 ns/op')
console.log(`${'baseline (copy headers, no parsing)'.padEnd(40)} ${copyNs.toFixed(0).padStart(6)}`)
console.log(`${'Threadline w3cTraceContextPropagator'.padEnd(40)} ${tlNs.toFixed(0).padStart(6)}`)
console.log(`${'OpenTelemetry W3CTraceContextPropagator'.padEnd(40)} ${otelNs.toFixed(0).padStart(6)}`)
console.log(`ratio OpenTelemetry / Threadline: ${(otelNs / tlNs).toFixed(1)}x (target >= 3x)`)
