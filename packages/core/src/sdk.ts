import { diag } from './diag.js'
import { envBoolean, envList } from './env.js'
import type { SpanExporter } from './export/exporter.js'
import { exportersFromNames } from './export/select.js'
import { XrayExporter } from './export/xray.js'
import { instrumentOutgoingHttp, type OutgoingHttpOptions } from './http/client.js'
import { type IdGenerator, randomIdGenerator } from './ids.js'
import { type SpanLimits, spanLimitsFromEnv } from './limits.js'
import {
  BatchSpanProcessor,
  type BatchSpanProcessorOptions,
  SimpleSpanProcessor,
  type SpanProcessor,
} from './processor.js'
import type { TextMapPropagator } from './propagation/propagator.js'
import { propagatorFromNames } from './propagation/select.js'
import { xrayIdGenerator } from './propagation/xray.js'
import { createResource, type Resource } from './resource.js'
import { type Sampler, samplerFromEnv } from './sampler.js'
import type { Attributes } from './span.js'
import { provider } from './tracer.js'

export interface InitOptions {
  /** `service.name` (else OTEL_SERVICE_NAME, else `unknown_service:node`). */
  serviceName?: string
  serviceVersion?: string
  /** `deployment.environment.name`, e.g. `production`. */
  environment?: string
  /** More resource attributes (merged over OTEL_RESOURCE_ATTRIBUTES). */
  resourceAttributes?: Attributes
  /** Default: OTEL_TRACES_SAMPLER(_ARG), else parent-based always-on. */
  sampler?: Sampler
  /** Exporters, or their names (`otlp`, `zipkin`, `xray`, `console`, `none`). Default: OTEL_TRACES_EXPORTER, else `otlp`. */
  exporter?: SpanExporter | ExporterSpec[]
  /** Replaces the processors built from `exporter` entirely. */
  spanProcessors?: SpanProcessor[]
  /** Batch settings (default from OTEL_BSP_*); `false` exports each span as it ends (tests, debugging). */
  batch?: BatchSpanProcessorOptions | false
  /** A propagator, or names (`tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`, `xray`, `none`). Default: OTEL_PROPAGATORS, else `tracecontext,baggage`. */
  propagators?: TextMapPropagator | string[]
  /** Span limits (default from OTEL_*_LIMIT variables). */
  limits?: Partial<SpanLimits>
  idGenerator?: IdGenerator
  /** Turn tracing off entirely (also OTEL_SDK_DISABLED=true). */
  disabled?: boolean
  /** Outgoing HTTP client spans and header injection (`fetch` and `http` on by default). */
  instrument?: OutgoingHttpOptions
  /** Flush and shut down when the process receives these (opt-in), e.g. `['SIGTERM', 'beforeExit']`. */
  shutdownOn?: Array<'SIGTERM' | 'SIGINT' | 'beforeExit'>
}

export type ExporterSpec = SpanExporter | string

/** The running SDK. */
export interface Sdk {
  readonly resource: Resource
  forceFlush(timeoutMs?: number): Promise<void>
  shutdown(timeoutMs?: number): Promise<void>
}

/**
 * Whether the SDK runs, kept on the global object next to the provider state it guards: a second
 * copy of this package in the process (an adapter that resolved another core version) shares the
 * provider, so it must also see that the SDK is running. With a module-local flag, that copy's
 * `ensureStarted()` re-initialised the shared provider and replaced the user's exporter.
 */
interface SdkState {
  started: boolean
  startedExplicitly: boolean
}
const SDK_STATE_KEY = Symbol.for('threadline.core.sdk.v1')
const globalSdk = globalThis as unknown as Record<symbol, SdkState | undefined>
const state: SdkState = globalSdk[SDK_STATE_KEY] ?? { started: false, startedExplicitly: false }
globalSdk[SDK_STATE_KEY] = state

/** True once `init()` (or an adapter on the user's behalf) has started the SDK. */
export function isStarted(): boolean {
  return state.started
}

const sdk: Sdk = {
  get resource() {
    return provider.resource
  },
  forceFlush,
  shutdown,
}

/**
 * Starts tracing. Optional: the first adapter used calls it with environment defaults. Calling it
 * again while started returns the running SDK unchanged (with a warning if options were given).
 */
export function init(options: InitOptions = {}): Sdk {
  if (state.started) {
    if (Object.keys(options).length > 0 && state.startedExplicitly) {
      diag.warn(
        'TL_ERR_ALREADY_STARTED',
        'init() was called again with options while tracing is running; the new options are ignored (call shutdown() first to reconfigure)',
      )
    }
    return sdk
  }
  state.started = true
  state.startedExplicitly = true
  if (options.disabled ?? envBoolean('OTEL_SDK_DISABLED')) {
    provider.enabled = false
    return sdk
  }
  provider.resource = createResource({
    serviceName: options.serviceName,
    serviceVersion: options.serviceVersion,
    environment: options.environment,
    attributes: options.resourceAttributes,
  })
  provider.sampler = options.sampler ?? samplerFromEnv()
  // X-Ray accepts only trace ids that start with the epoch: pick its generator when exporting there.
  provider.idGenerator = options.idGenerator ?? (exportsToXray(options) ? xrayIdGenerator : randomIdGenerator)
  provider.limits = spanLimitsFromEnv(options.limits)
  provider.propagator =
    Array.isArray(options.propagators) || options.propagators === undefined
      ? propagatorFromNames(options.propagators)
      : options.propagators
  provider.processor = combine(options.spanProcessors ?? processorsFor(options))
  provider.enabled = true
  uninstall.push(instrumentOutgoingHttp(options.instrument))
  for (const signal of options.shutdownOn ?? []) listenForShutdown(signal)
  for (const hook of startHooks) runHook(hook, options)
  return sdk
}

/** Undo functions for what init() installed (channel subscriptions, signal listeners). */
const uninstall: Array<() => void> = []

function listenForShutdown(signal: 'SIGTERM' | 'SIGINT' | 'beforeExit'): void {
  const onSignal = () => {
    const done = () => {
      // Re-raise so the process ends as it would have without us (signals), or lets it exit.
      if (signal !== 'beforeExit' && process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    shutdown().then(done, done)
  }
  process.once(signal, onSignal)
  uninstall.push(() => process.removeListener(signal, onSignal))
}

/**
 * Starts the SDK with these defaults unless it is already running: what adapters call, so one
 * `app.use(threadline({ serviceName }))` line is enough.
 */
export function ensureStarted(defaults: InitOptions = {}): Sdk {
  if (state.started) return sdk
  init(defaults)
  state.startedExplicitly = false
  return sdk
}

type StartHook = (options: InitOptions) => void
const startHooks: StartHook[] = []

/** Lets core modules (outgoing HTTP instrumentation, shutdown signals) act when the SDK starts. */
export function onStart(hook: StartHook): void {
  startHooks.push(hook)
  if (state.started && provider.enabled) runHook(hook, {})
}

function runHook(hook: StartHook, options: InitOptions): void {
  try {
    hook(options)
  } catch (error) {
    diag.error('TL_ERR_START_HOOK', `a start hook failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}

type StopHook = () => void
const stopHooks: StopHook[] = []

export function onShutdown(hook: StopHook): void {
  stopHooks.push(hook)
}

/** Exports everything ended so far. */
export async function forceFlush(timeoutMs?: number): Promise<void> {
  await provider.processor?.forceFlush(timeoutMs)
}

/** Flushes and stops tracing; afterwards spans are not recorded until `init()` is called again. */
export async function shutdown(timeoutMs?: number): Promise<void> {
  if (!state.started) return
  const processor = provider.processor
  provider.enabled = false
  provider.processor = undefined
  state.started = false
  for (const undo of uninstall.splice(0)) undo()
  for (const hook of stopHooks) {
    try {
      hook()
    } catch {
      // keep shutting down
    }
  }
  await processor?.shutdown(timeoutMs)
}

function exportsToXray(options: InitOptions): boolean {
  const specs =
    options.exporter === undefined
      ? envList('OTEL_TRACES_EXPORTER')
      : Array.isArray(options.exporter)
        ? options.exporter
        : [options.exporter]
  return (specs ?? []).some((s) => s === 'xray' || s instanceof XrayExporter)
}

function processorsFor(options: InitOptions): SpanProcessor[] {
  const specs =
    options.exporter === undefined ? undefined : Array.isArray(options.exporter) ? options.exporter : [options.exporter]
  const names = specs?.filter((s): s is string => typeof s === 'string')
  const instances = specs?.filter((s): s is SpanExporter => typeof s !== 'string') ?? []
  const exporters = [
    ...instances,
    ...(names === undefined ? exportersFromNames() : names.length ? exportersFromNames(names) : []),
  ]
  return exporters.map((exporter) =>
    options.batch === false ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter, options.batch),
  )
}

function combine(processors: SpanProcessor[]): SpanProcessor | undefined {
  if (processors.length <= 1) return processors[0]
  return {
    onEnd(span) {
      for (const p of processors) p.onEnd(span)
    },
    async forceFlush(timeoutMs) {
      await Promise.all(processors.map((p) => p.forceFlush(timeoutMs)))
    },
    async shutdown(timeoutMs) {
      await Promise.all(processors.map((p) => p.shutdown(timeoutMs)))
    },
  }
}
