/**
 * `@threadline/core/opentelemetry`: makes Threadline the TracerProvider, context manager and
 * propagator of `@opentelemetry/api`, so spans that libraries or user code create through the
 * OpenTelemetry API become Threadline spans in the same trace, parented both ways.
 *
 * ```ts
 * import { registerOpenTelemetry } from '@threadline/core/opentelemetry'
 * registerOpenTelemetry()
 * ```
 */
import * as api from '@opentelemetry/api'
import {
  activeContext,
  adoptContext,
  bindContext,
  bridgeContextKey,
  type Context,
  createContextKey,
  withContext,
} from '../context.js'
import type { Baggage, BaggageEntry } from '../propagation/baggage.js'
import { headerGetter, headerSetter } from '../propagation/propagator.js'
import { SPAN_CONTEXT_KEY } from '../trace-context.js'
import { getTracer, provider, type SpanOptions } from '../tracer.js'

export interface RegisterOptions {
  /** Also register as the global propagator of `@opentelemetry/api` (default true). */
  propagator?: boolean
}

/** Finds the symbol `@opentelemetry/api` stores a value under, by asking it to set one on a probe. */
function probeKey(set: (ctx: api.Context) => api.Context): symbol {
  let key: symbol | undefined
  const probe: api.Context = {
    getValue: () => undefined,
    setValue(k) {
      key = k
      return probe
    },
    deleteValue: () => probe,
  }
  set(probe)
  if (!key) throw new Error('TL_ERR_OTEL_BRIDGE: could not find @opentelemetry/api context keys (unsupported version?)')
  return key
}

function toOtelBaggage(own: unknown): api.Baggage | undefined {
  const map = own as Baggage | undefined
  if (!map || map.size === 0) return undefined
  const entries: Record<string, api.BaggageEntry> = {}
  for (const [key, entry] of map) {
    entries[key] = entry.metadata
      ? { value: entry.value, metadata: api.baggageEntryMetadataFromString(entry.metadata) }
      : { value: entry.value }
  }
  return api.propagation.createBaggage(entries)
}

function fromOtelBaggage(foreign: unknown): Baggage {
  const out = new Map<string, BaggageEntry>()
  const bag = foreign as api.Baggage | undefined
  for (const [key, entry] of bag?.getAllEntries() ?? []) {
    out.set(key, entry.metadata ? { value: entry.value, metadata: entry.metadata.toString() } : { value: entry.value })
  }
  return out
}

/** A Threadline tracer behind OpenTelemetry's Tracer interface (contexts from the API are adopted). */
function otelTracer(name: string, version?: string): api.Tracer {
  const tracer = getTracer(name, version)
  type Fn = (span: api.Span) => unknown
  return {
    startSpan: (spanName, options, ctx) =>
      tracer.startSpan(spanName, options as SpanOptions, ctx ? adoptContext(ctx) : undefined) as unknown as api.Span,
    startActiveSpan(spanName: string, ...rest: unknown[]) {
      const fn = rest[rest.length - 1] as Fn
      const options = (rest.length >= 2 ? rest[0] : undefined) as SpanOptions | undefined
      const ctx = rest.length >= 3 ? adoptContext(rest[1] as Context) : activeContext()
      return tracer.startActiveSpan(spanName, options ?? {}, ctx, fn as never)
    },
  } as api.Tracer
}

let unregister: (() => void) | undefined

/**
 * Registers Threadline with `@opentelemetry/api`. Call once at startup, before code that uses the
 * OpenTelemetry API runs. Returns a function that undoes the registration.
 */
export function registerOpenTelemetry(options: RegisterOptions = {}): () => void {
  unregister?.()
  const undo: Array<() => void> = []
  undo.push(
    bridgeContextKey({
      foreign: probeKey((ctx) => api.trace.setSpan(ctx, api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT))),
      own: SPAN_CONTEXT_KEY,
      read: (span) => span,
      write: (span) => span,
    }),
  )
  undo.push(
    bridgeContextKey({
      foreign: probeKey((ctx) => api.propagation.setBaggage(ctx, api.propagation.createBaggage())),
      // the key baggage.ts stores baggage under (createContextKey returns one shared symbol per name)
      own: createContextKey('baggage'),
      read: toOtelBaggage,
      write: fromOtelBaggage,
    }),
  )

  const contextManager: api.ContextManager = {
    active: () => activeContext() as api.Context,
    with: (ctx, fn, thisArg, ...args) => withContext(adoptContext(ctx), () => fn.apply(thisArg, args)),
    bind: (ctx, target) => bindContext(target, adoptContext(ctx)),
    enable() {
      return this
    },
    disable() {
      return this
    },
  }
  const tracerProvider: api.TracerProvider = { getTracer: otelTracer }
  const propagator: api.TextMapPropagator = {
    inject: (ctx, carrier, setter) => provider.propagator.inject(adoptContext(ctx), carrier, setter ?? headerSetter),
    extract: (ctx, carrier, getter) =>
      provider.propagator.extract(adoptContext(ctx), carrier, getter ?? headerGetter) as api.Context,
    fields: () => provider.propagator.fields(),
  }

  // The API refuses to replace a registered global: clear ours (and any other) first.
  api.context.disable()
  api.trace.disable()
  api.context.setGlobalContextManager(contextManager)
  api.trace.setGlobalTracerProvider(tracerProvider)
  if (options.propagator !== false) {
    api.propagation.disable()
    api.propagation.setGlobalPropagator(propagator)
    undo.push(() => api.propagation.disable())
  }
  undo.push(() => {
    api.trace.disable()
    api.context.disable()
  })
  unregister = () => {
    for (const fn of undo.splice(0).reverse()) fn()
    unregister = undefined
  }
  return unregister
}
