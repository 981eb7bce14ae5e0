import { diag } from '../diag.js'
import { envList } from '../env.js'
import { b3Propagator } from './b3.js'
import { w3cBaggagePropagator } from './baggage.js'
import { jaegerPropagator } from './jaeger.js'
import { compositePropagator, noopPropagator, type TextMapPropagator } from './propagator.js'
import { w3cTraceContextPropagator } from './w3c.js'
import { xrayPropagator } from './xray.js'

/** Propagator names accepted in options and OTEL_PROPAGATORS (OTel SDK configuration spec). */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi' | 'jaeger' | 'xray' | 'none'

const FACTORIES: Record<Exclude<PropagatorName, 'none'>, () => TextMapPropagator> = {
  tracecontext: () => w3cTraceContextPropagator,
  baggage: () => w3cBaggagePropagator,
  b3: () => b3Propagator({ injectEncoding: 'single' }),
  b3multi: () => b3Propagator({ injectEncoding: 'multi' }),
  jaeger: () => jaegerPropagator(),
  xray: () => xrayPropagator(),
}

/**
 * Builds the propagator from names (options) or OTEL_PROPAGATORS; default `tracecontext,baggage`.
 * Extractors run in the order given (a later one overrides an earlier one's parent, as in
 * OpenTelemetry); every one of them injects. `none` alone disables propagation.
 */
export function propagatorFromNames(names?: readonly string[]): TextMapPropagator {
  const list = (names ?? envList('OTEL_PROPAGATORS') ?? ['tracecontext', 'baggage']).map((n) =>
    String(n).trim().toLowerCase(),
  )
  const propagators: TextMapPropagator[] = []
  const seen = new Set<string>()
  for (const name of list) {
    if (name === 'none' || seen.has(name)) continue
    seen.add(name)
    const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name as keyof typeof FACTORIES] : undefined
    if (factory) propagators.push(factory())
    else
      diag.warn(
        'TL_ERR_PROPAGATOR',
        `unknown propagator "${name}"; ignored (known: tracecontext, baggage, b3, b3multi, jaeger, xray, none)`,
      )
  }
  if (propagators.length === 0) return noopPropagator
  return propagators.length === 1 ? (propagators[0] as TextMapPropagator) : compositePropagator(propagators)
}
