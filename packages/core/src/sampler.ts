import type { Context } from './context.js'
import { diag } from './diag.js'
import { envNumber, envString } from './env.js'
import { b3SamplingOnly } from './propagation/b3.js'
import type { Attributes, SpanContext, SpanKind, SpanLink, TraceState } from './span.js'
import { TraceFlags } from './span.js'
import { spanContextFrom } from './trace-context.js'

/** OpenTelemetry's sampling decisions. */
export const SamplingDecision = { NOT_RECORD: 0, RECORD: 1, RECORD_AND_SAMPLED: 2 } as const
export type SamplingDecision = (typeof SamplingDecision)[keyof typeof SamplingDecision]

export interface SamplingResult {
  decision: SamplingDecision
  attributes?: Attributes | undefined
  traceState?: TraceState | undefined
}

/** Decides, before a span exists, whether it is recorded and exported. Mirrors OTel's Sampler. */
export interface Sampler {
  shouldSample(
    context: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes | undefined,
    links: readonly SpanLink[] | undefined,
  ): SamplingResult
  toString(): string
  /**
   * True when a child of a local, unsampled parent is never recorded, whatever else is true
   * (parent-based sampling's default): lets the tracer skip sampling for it entirely.
   */
  readonly dropsUnsampledLocalChildren?: boolean
  /**
   * True when a child of a local, sampled parent is always recorded and sampled, keeping the
   * parent's trace state (parent-based sampling's default): lets the tracer skip sampling for it.
   */
  readonly samplesSampledLocalChildren?: boolean
}

// hot path: constant results, so a sampling decision allocates nothing.
const SAMPLE: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED })
const DROP: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD })

export const alwaysOn: Sampler = { shouldSample: () => SAMPLE, toString: () => 'AlwaysOnSampler' }
export const alwaysOff: Sampler = { shouldSample: () => DROP, toString: () => 'AlwaysOffSampler' }

/**
 * Samples a fraction of traces, decided by the trace id alone so every service agrees: the
 * rightmost 52 bits (random under W3C level 2) compared with ratio × 2^52.
 */
export function traceIdRatioBased(ratio: number): Sampler {
  const r = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 0
  const threshold = Math.floor(r * 2 ** 52)
  return {
    shouldSample(_ctx, traceId) {
      if (r >= 1) return SAMPLE
      return lowBits52(traceId) < threshold ? SAMPLE : DROP
    },
    toString: () => `TraceIdRatioBased{${r}}`,
  }
}

/** The rightmost 13 hex digits (52 bits) of a trace id as a number, without allocating. */
function lowBits52(traceId: string): number {
  let value = 0
  for (let i = traceId.length - 13; i < traceId.length; i++) {
    const c = traceId.charCodeAt(i)
    value = value * 16 + (c <= 57 ? c - 48 : (c | 32) - 87)
  }
  return value
}

export interface ParentBasedOptions {
  root: Sampler
  remoteParentSampled?: Sampler | undefined
  remoteParentNotSampled?: Sampler | undefined
  localParentSampled?: Sampler | undefined
  localParentNotSampled?: Sampler | undefined
}

/** Follows the parent's decision; uses `root` for spans that start a trace. */
export function parentBased(options: ParentBasedOptions): Sampler {
  const remoteSampled = options.remoteParentSampled ?? alwaysOn
  const remoteNotSampled = options.remoteParentNotSampled ?? alwaysOff
  const localSampled = options.localParentSampled ?? alwaysOn
  const localNotSampled = options.localParentNotSampled ?? alwaysOff
  return {
    shouldSample(ctx, traceId, name, kind, attributes, links) {
      const parent: SpanContext | undefined = spanContextFrom(ctx)
      let sampler: Sampler
      if (!parent) {
        // B3 "sampling only" headers (`b3: 0`, `b3: 1`, `b3: d`) carry a decision but no ids.
        const b3 = b3SamplingOnly(ctx)
        if (b3 !== undefined) return b3 === '0' ? DROP : SAMPLE
        sampler = options.root
      } else if (parent.isRemote) sampler = parent.traceFlags & TraceFlags.SAMPLED ? remoteSampled : remoteNotSampled
      else sampler = parent.traceFlags & TraceFlags.SAMPLED ? localSampled : localNotSampled
      return sampler.shouldSample(ctx, traceId, name, kind, attributes, links)
    },
    toString: () => `ParentBased{root=${options.root.toString()}}`,
    dropsUnsampledLocalChildren: localNotSampled === alwaysOff,
    samplesSampledLocalChildren: localSampled === alwaysOn,
  }
}

/** The sampler named by OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on). */
export function samplerFromEnv(): Sampler {
  const name = envString('OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on'
  const ratio = () => {
    const arg = envNumber('OTEL_TRACES_SAMPLER_ARG')
    if (arg === undefined || arg > 1) {
      if (arg !== undefined)
        diag.warn('TL_ERR_SAMPLER_ARG', `OTEL_TRACES_SAMPLER_ARG=${arg} is not within [0, 1]; using 1`)
      return 1
    }
    return arg
  }
  switch (name) {
    case 'always_on':
      return alwaysOn
    case 'always_off':
      return alwaysOff
    case 'traceidratio':
      return traceIdRatioBased(ratio())
    case 'parentbased_always_on':
      return parentBased({ root: alwaysOn })
    case 'parentbased_always_off':
      return parentBased({ root: alwaysOff })
    case 'parentbased_traceidratio':
      return parentBased({ root: traceIdRatioBased(ratio()) })
    default:
      diag.warn(
        'TL_ERR_SAMPLER',
        `OTEL_TRACES_SAMPLER="${name}" is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; using parentbased_always_on`,
      )
      return parentBased({ root: alwaysOn })
  }
}
