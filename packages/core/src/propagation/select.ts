import { diag } from '../diag.js'
import { envList } from '../env.js'
import { compositePropagator, noopPropagator, type TextMapPropagator } from './propagator.js'
import { w3cTraceContextPropagator } from './w3c.js'

/** Propagator names accepted in options and OTEL_PROPAGATORS. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi' | 'jaeger' | 'xray' | 'none'

const FACTORIES: Partial<Record<PropagatorName, () => TextMapPropagator>> = {
  tracecontext: () => w3cTraceContextPropagator,
}

/** Builds the propagator from names (options) or OTEL_PROPAGATORS; default `tracecontext,baggage`. */
export function propagatorFromNames(names?: readonly string[]): TextMapPropagator {
  const list = names ?? envList('OTEL_PROPAGATORS') ?? ['tracecontext', 'baggage']
  if (list.includes('none')) return noopPropagator
  const propagators: TextMapPropagator[] = []
  for (const name of list) {
    const factory = FACTORIES[name as PropagatorName]
    if (factory) propagators.push(factory())
    else if (name !== 'baggage') diag.warn('TL_ERR_PROPAGATOR', `unknown propagator "${name}"; ignored`)
  }
  return propagators.length === 1 ? (propagators[0] as TextMapPropagator) : compositePropagator(propagators)
}
