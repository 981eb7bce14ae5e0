import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startSpan } from './api.js'
import { diag, setDiagLogger } from './diag.js'
import type { ExportResult, SpanExporter } from './export/exporter.js'
import { MemoryExporter } from './export/memory.js'
import type { BatchSpanProcessor } from './processor.js'
import { init, shutdown } from './sdk.js'
import type { ReadableSpan } from './span.js'
import { stats } from './stats.js'

const warnings: string[] = []
setDiagLogger((_level, code, message) => warnings.push(`${code}: ${message}`))
afterEach(async () => {
  await shutdown(200)
  warnings.length = 0
  diag.reset()
})

function endSpans(n: number): void {
  for (let i = 0; i < n; i++) startSpan(`s${i}`).end()
}

class CountingExporter implements SpanExporter {
  batches: number[] = []
  inFlight = 0
  maxInFlight = 0
  constructor(private readonly delayMs = 0) {}
  async export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    if (this.delayMs) await sleep(this.delayMs)
    this.batches.push(spans.length)
    this.inFlight--
    return { ok: true }
  }
  async shutdown() {}
}

describe('BatchSpanProcessor', () => {
  it('exports in batches of at most maxExportBatchSize, one export at a time', async () => {
    const exporter = new CountingExporter(5)
    init({
      exporter,
      batch: { maxExportBatchSize: 100, maxQueueSize: 1000, scheduledDelayMs: 10 },
      propagators: ['none'],
    })
    for (let i = 0; i < 5; i++) {
      endSpans(100)
      await sleep(1)
    }
    await shutdown()
    expect(exporter.batches.reduce((a, b) => a + b, 0)).toBe(500)
    expect(Math.max(...exporter.batches)).toBeLessThanOrEqual(100)
    expect(exporter.maxInFlight).toBe(1)
  })

  it('exports a partial batch after the scheduled delay', async () => {
    const exporter = new MemoryExporter()
    init({ exporter, batch: { scheduledDelayMs: 20 }, propagators: ['none'] })
    endSpans(3)
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    for (let i = 0; i < 100 && exporter.getFinishedSpans().length < 3; i++) await sleep(10)
    expect(exporter.getFinishedSpans()).toHaveLength(3)
  })

  it('stays bounded under an exporter that never resolves, and the app never sees an error', async () => {
    const neverEnding: SpanExporter = { export: () => new Promise(() => {}), shutdown: async () => {} }
    init({
      exporter: neverEnding,
      batch: { maxQueueSize: 200, maxExportBatchSize: 50, scheduledDelayMs: 5, exportTimeoutMs: 20 },
      propagators: ['none'],
    })
    const processor = (globalThis as Record<symbol, { processor: BatchSpanProcessor }>)[
      Symbol.for('threadline.core.provider.v1')
    ]!.processor
    const dropped0 = stats().spansDropped
    for (let round = 0; round < 20; round++) {
      expect(() => endSpans(1000)).not.toThrow()
      expect(processor.queued).toBeLessThanOrEqual(200)
      await sleep(2)
    }
    expect(stats().spansDropped - dropped0).toBeGreaterThan(15_000)
    // reported as warnings, never once per span
    const queueWarnings = warnings.filter((w) => w.startsWith('TL_ERR_QUEUE_FULL'))
    expect(queueWarnings.length).toBeGreaterThanOrEqual(1)
    expect(queueWarnings.length).toBeLessThanOrEqual(2)
    expect(queueWarnings[0]).toMatch(/dropped \d+ span/)
    // shutdown is bounded by its deadline even though the export never ends
    const t0 = Date.now()
    await shutdown(100)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('survives an exporter that throws synchronously or rejects', async () => {
    let calls = 0
    const throwing: SpanExporter = {
      export: (() => {
        calls++
        if (calls % 2) throw new Error('sync boom')
        return Promise.reject(new Error('async boom'))
      }) as SpanExporter['export'],
      shutdown: async () => {},
    }
    // let exports abandoned by earlier tests (20 ms timeouts) finish counting first
    await sleep(100)
    init({ exporter: throwing, batch: { maxExportBatchSize: 10, scheduledDelayMs: 5 }, propagators: ['none'] })
    const failures0 = stats().exportFailures
    for (let i = 0; i < 5; i++) {
      expect(() => endSpans(10)).not.toThrow()
      await sleep(5)
    }
    await shutdown(500)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(stats().exportFailures - failures0).toBe(calls)
    expect(warnings.some((w) => w.startsWith('TL_ERR_EXPORT_FAILED'))).toBe(true)
  })

  it('keeps memory flat while a dead exporter drops 200k spans', async () => {
    const neverEnding: SpanExporter = { export: () => new Promise(() => {}), shutdown: async () => {} }
    init({ exporter: neverEnding, batch: { exportTimeoutMs: 50, scheduledDelayMs: 5 }, propagators: ['none'] })
    const gc = (globalThis as { gc?: () => void }).gc
    endSpans(20_000)
    gc?.()
    const heap0 = process.memoryUsage().heapUsed
    for (let i = 0; i < 10; i++) {
      endSpans(20_000)
      await sleep(1)
    }
    gc?.()
    const growth = process.memoryUsage().heapUsed - heap0
    // 200k retained spans would be well over 50 MB; the bounded queue (2048) is a few MB at most
    expect(growth).toBeLessThan(30 * 1024 * 1024)
  })

  it('drains the queue on shutdown and force flush', async () => {
    const exporter = new MemoryExporter()
    init({ exporter, batch: { scheduledDelayMs: 60_000 }, propagators: ['none'] })
    endSpans(700)
    await shutdown()
    expect(exporter.getFinishedSpans()).toHaveLength(700)
    // after shutdown nothing is recorded
    startSpan('late').end()
    expect(exporter.getFinishedSpans()).toHaveLength(700)
  })

  it('does not keep the process alive (timers are unref’ed)', async () => {
    const exporter = new MemoryExporter()
    init({ exporter, batch: { scheduledDelayMs: 60_000 }, propagators: ['none'] })
    endSpans(1)
    const bsp = (globalThis as Record<symbol, { processor: { timer?: NodeJS.Timeout } }>)[
      Symbol.for('threadline.core.provider.v1')
    ]!.processor
    expect(bsp.timer?.hasRef()).toBe(false)
  })

  it('only exports sampled spans (RECORD-only spans stay local)', async () => {
    const exporter = new MemoryExporter()
    init({
      exporter,
      batch: false,
      sampler: { shouldSample: () => ({ decision: 1 }), toString: () => 'RecordOnly' },
      propagators: ['none'],
    })
    const span = startSpan('recorded')
    expect(span.isRecording()).toBe(true)
    span.end()
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })
})

vi.setConfig({ testTimeout: 30_000 })

describe('BatchSpanProcessor settings', () => {
  it('rejects a zero queue size (OTEL_BSP_MAX_QUEUE_SIZE=0) with a warning instead of dropping everything', async () => {
    vi.stubEnv('OTEL_BSP_MAX_QUEUE_SIZE', '0')
    try {
      const exporter = new MemoryExporter()
      init({ exporter, batch: { scheduledDelayMs: 5 }, propagators: ['none'] })
      endSpans(10)
      await shutdown()
      expect(exporter.getFinishedSpans()).toHaveLength(10)
      expect(warnings.some((w) => w.startsWith('TL_ERR_BSP_SETTING') && w.includes('maxQueueSize=0'))).toBe(true)
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
