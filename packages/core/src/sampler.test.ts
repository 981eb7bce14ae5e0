import { afterEach, describe, expect, it, vi } from 'vitest'
import { extract, startSpan, trace } from './api.js'
import { ROOT_CONTEXT } from './context.js'
import { MemoryExporter } from './export/memory.js'
import { randomIdGenerator } from './ids.js'
import { alwaysOff, alwaysOn, parentBased, SamplingDecision, samplerFromEnv, traceIdRatioBased } from './sampler.js'
import { init, shutdown } from './sdk.js'
import { NonRecordingSpan, SpanKind, TraceFlags } from './span.js'
import { contextWithRemoteParent, contextWithSpan } from './trace-context.js'

const TRACE = '0af7651916cd43dd8448eb211c80319c'
const SPAN = 'b7ad6b7169203331'
const remote = (sampled: boolean) =>
  contextWithRemoteParent(ROOT_CONTEXT, { traceId: TRACE, spanId: SPAN, traceFlags: sampled ? 1 : 0 })
const local = (sampled: boolean) =>
  contextWithSpan(
    ROOT_CONTEXT,
    new NonRecordingSpan({ traceId: TRACE, spanId: SPAN, traceFlags: sampled ? 1 : 0, isRemote: false }),
  )
const decide = (sampler: ReturnType<typeof parentBased>, ctx = ROOT_CONTEXT, traceId = TRACE) =>
  sampler.shouldSample(ctx, traceId, 'op', SpanKind.SERVER, undefined, undefined).decision
const { RECORD_AND_SAMPLED: YES, NOT_RECORD: NO } = SamplingDecision

afterEach(() => shutdown())

describe('samplers', () => {
  it('always_on and always_off', () => {
    expect(decide(alwaysOn)).toBe(YES)
    expect(decide(alwaysOff)).toBe(NO)
  })

  it('traceidratio samples about the ratio, and the same trace id the same way everywhere', () => {
    const sampler = traceIdRatioBased(0.25)
    let sampled = 0
    for (let i = 0; i < 20_000; i++)
      if (decide(sampler, ROOT_CONTEXT, randomIdGenerator.generateTraceId()) === YES) sampled++
    expect(sampled / 20_000).toBeGreaterThan(0.22)
    expect(sampled / 20_000).toBeLessThan(0.28)
    const id = randomIdGenerator.generateTraceId()
    expect(decide(traceIdRatioBased(0.25), ROOT_CONTEXT, id)).toBe(decide(sampler, ROOT_CONTEXT, id))
    expect(decide(traceIdRatioBased(0), ROOT_CONTEXT, 'ffffffffffffffffffffffffffffffff')).toBe(NO)
    expect(decide(traceIdRatioBased(1), ROOT_CONTEXT, 'ffffffffffffffffffffffffffffffff')).toBe(YES)
  })

  it('parent-based covers all four parent cases and the root', () => {
    const sampler = parentBased({
      root: alwaysOff,
      remoteParentSampled: alwaysOn,
      remoteParentNotSampled: alwaysOff,
      localParentSampled: alwaysOn,
      localParentNotSampled: alwaysOff,
    })
    expect(decide(sampler)).toBe(NO)
    expect(decide(sampler, remote(true))).toBe(YES)
    expect(decide(sampler, remote(false))).toBe(NO)
    expect(decide(sampler, local(true))).toBe(YES)
    expect(decide(sampler, local(false))).toBe(NO)
    // each case delegates to its own sampler
    const inverted = parentBased({
      root: alwaysOn,
      remoteParentSampled: alwaysOff,
      remoteParentNotSampled: alwaysOn,
      localParentSampled: alwaysOff,
      localParentNotSampled: alwaysOn,
    })
    expect(decide(inverted)).toBe(YES)
    expect(decide(inverted, remote(true))).toBe(NO)
    expect(decide(inverted, remote(false))).toBe(YES)
    expect(decide(inverted, local(true))).toBe(NO)
    expect(decide(inverted, local(false))).toBe(YES)
  })

  it.each([
    ['always_on', undefined, 'AlwaysOnSampler'],
    ['always_off', undefined, 'AlwaysOffSampler'],
    ['traceidratio', '0.5', 'TraceIdRatioBased{0.5}'],
    ['parentbased_always_on', undefined, 'ParentBased{root=AlwaysOnSampler}'],
    ['parentbased_always_off', undefined, 'ParentBased{root=AlwaysOffSampler}'],
    ['parentbased_traceidratio', '0.1', 'ParentBased{root=TraceIdRatioBased{0.1}}'],
    ['nonsense', undefined, 'ParentBased{root=AlwaysOnSampler}'],
    ['traceidratio', 'abc', 'TraceIdRatioBased{1}'],
  ])('OTEL_TRACES_SAMPLER=%s (arg %s) → %s', (name, arg, expected) => {
    vi.stubEnv('OTEL_TRACES_SAMPLER', name)
    if (arg !== undefined) vi.stubEnv('OTEL_TRACES_SAMPLER_ARG', arg)
    try {
      expect(samplerFromEnv().toString()).toBe(expected)
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('an unsampled request records nothing and keeps the decision for its children', () => {
    const exporter = new MemoryExporter()
    init({ exporter, batch: false, sampler: parentBased({ root: alwaysOff }), propagators: ['none'] })
    trace('root', (root) => {
      expect(root.isRecording()).toBe(false)
      expect(root.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0)
      const child = startSpan('child')
      expect(child.isRecording()).toBe(false)
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId)
      child.end()
    })
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })

  it('a sampled remote parent is followed and its trace id kept', () => {
    const exporter = new MemoryExporter()
    init({ exporter, batch: false, propagators: ['none'] })
    const span = startSpan('server', { kind: SpanKind.SERVER }, remote(true))
    span.end()
    const out = exporter.getByName('server')
    expect(out.spanContext().traceId).toBe(TRACE)
    expect(out.parentSpanContext?.spanId).toBe(SPAN)
    expect(out.parentSpanContext?.isRemote).toBe(true)
  })

  it('sets the W3C level 2 random flag on trace ids it generates', () => {
    const exporter = new MemoryExporter()
    init({ exporter, batch: false, propagators: ['none'] })
    const span = startSpan('root')
    expect(span.spanContext().traceFlags).toBe(TraceFlags.SAMPLED | TraceFlags.RANDOM)
    // a parent without the flag: children do not claim it
    const child = startSpan('child', {}, remote(true))
    expect(child.spanContext().traceFlags).toBe(TraceFlags.SAMPLED)
  })
})

describe('B3 sampling-only headers', () => {
  it.each([
    ['0', false],
    ['1', true],
    ['d', true],
  ])('b3: %s decides a new trace (sampled=%s) under the parent-based sampler', (value, sampled) => {
    const exporter = new MemoryExporter()
    init({
      exporter,
      batch: false,
      propagators: ['b3'],
      sampler: parentBased({ root: value === '0' ? alwaysOn : alwaysOff }),
    })
    const ctx = extract({ b3: value })
    const span = startSpan('server', { kind: SpanKind.SERVER }, ctx)
    expect(span.isRecording()).toBe(sampled)
    span.end()
  })
})
