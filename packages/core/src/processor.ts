import { diag } from './diag.js'
import { envNumber } from './env.js'
import type { SpanExporter } from './export/exporter.js'
import { type ReadableSpan, TraceFlags } from './span.js'
import { counters } from './stats.js'

/** Receives spans as they end. Mirrors OTel's SpanProcessor (without onStart, which we never needed). */
export interface SpanProcessor {
  onEnd(span: ReadableSpan): void
  forceFlush(timeoutMs?: number): Promise<void>
  shutdown(timeoutMs?: number): Promise<void>
}

/** Exports each span as it ends, one export at a time per span. For tests and debugging. */
export class SimpleSpanProcessor implements SpanProcessor {
  private readonly pending = new Set<Promise<void>>()
  private stopped = false

  constructor(
    private readonly exporter: SpanExporter,
    private readonly exportTimeoutMs = 30_000,
  ) {}

  onEnd(span: ReadableSpan): void {
    if (!(span.spanContext().traceFlags & TraceFlags.SAMPLED)) return
    if (this.stopped) {
      counters.spansDropped++
      return
    }
    counters.spansQueued++
    const done = exportWithTimeout(this.exporter, [span], this.exportTimeoutMs).finally(() => this.pending.delete(done))
    this.pending.add(done)
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.pending)
    await this.exporter.forceFlush?.()
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.forceFlush()
    await this.exporter.shutdown()
  }
}

export interface BatchSpanProcessorOptions {
  /** Spans kept waiting for export; more are dropped (OTEL_BSP_MAX_QUEUE_SIZE, 2048). */
  maxQueueSize?: number
  /** Spans per export call (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512). */
  maxExportBatchSize?: number
  /** Longest wait before a partial batch is exported, ms (OTEL_BSP_SCHEDULE_DELAY, 5000). */
  scheduledDelayMs?: number
  /** An export taking longer is abandoned and counted as failed, ms (OTEL_BSP_EXPORT_TIMEOUT, 30000). */
  exportTimeoutMs?: number
}

/**
 * Queues ended spans and exports them in batches off the request path. The queue is bounded
 * (overflow is dropped and counted, never buffered), at most one export runs at a time, and
 * the timer is unref'ed so it never keeps the process alive.
 */
export class BatchSpanProcessor implements SpanProcessor {
  private queue: ReadableSpan[] = []
  private readonly maxQueueSize: number
  private readonly maxExportBatchSize: number
  private readonly scheduledDelayMs: number
  private readonly exportTimeoutMs: number
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  private inFlight: Promise<void> | undefined
  private stopped = false
  private droppedSinceWarning = 0

  constructor(
    private readonly exporter: SpanExporter,
    options: BatchSpanProcessorOptions = {},
  ) {
    this.maxQueueSize = positive('maxQueueSize', options.maxQueueSize ?? envNumber('OTEL_BSP_MAX_QUEUE_SIZE'), 2048)
    const batch = positive(
      'maxExportBatchSize',
      options.maxExportBatchSize ?? envNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      512,
    )
    // OTel SDK spec: the batch size must not exceed the queue size.
    this.maxExportBatchSize = Math.max(1, Math.min(batch, this.maxQueueSize))
    this.scheduledDelayMs = options.scheduledDelayMs ?? envNumber('OTEL_BSP_SCHEDULE_DELAY') ?? 5000
    this.exportTimeoutMs = positive(
      'exportTimeoutMs',
      options.exportTimeoutMs ?? envNumber('OTEL_BSP_EXPORT_TIMEOUT'),
      30_000,
    )
  }

  // hot path: a flag test, a push and a length check; the export itself is scheduled, never awaited here.
  onEnd(span: ReadableSpan): void {
    if (!(span.spanContext().traceFlags & TraceFlags.SAMPLED)) return
    if (this.stopped || this.queue.length >= this.maxQueueSize) {
      this.drop(1)
      return
    }
    counters.spansQueued++
    this.queue.push(span)
    if (this.queue.length >= this.maxExportBatchSize) this.exportSoon()
    else if (this.timer === undefined) this.startTimer()
  }

  /** Exports everything queued now; resolves when done or after `timeoutMs`. */
  async forceFlush(timeoutMs = this.exportTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (this.inFlight) await withDeadline(this.inFlight, deadline)
      else if (this.queue.length > 0) await withDeadline(this.exportOnce(), deadline)
      else break
    }
    if (this.exporter.forceFlush) await withDeadline(this.exporter.forceFlush(), deadline)
  }

  /** Stops accepting spans, drains the queue within `timeoutMs`, then shuts the exporter down. */
  async shutdown(timeoutMs = this.exportTimeoutMs): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.clearTimer()
    const deadline = Date.now() + timeoutMs
    await this.forceFlush(timeoutMs)
    if (this.queue.length > 0) {
      this.drop(this.queue.length)
      this.queue = []
    }
    await withDeadline(
      this.exporter.shutdown().catch(() => {}),
      deadline,
    )
  }

  /** Spans waiting to be exported (for tests and `stats()`). */
  get queued(): number {
    return this.queue.length
  }

  private startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.exportOnce()
    }, this.scheduledDelayMs)
    this.timer.unref()
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate)
      this.immediate = undefined
    }
  }

  private exportSoon(): void {
    if (this.inFlight || this.immediate) return
    this.clearTimer()
    // setImmediate: let the current request finish ending its spans before we encode.
    this.immediate = setImmediate(() => {
      this.immediate = undefined
      void this.exportOnce()
    })
    this.immediate.unref()
  }

  private exportOnce(): Promise<void> {
    if (this.inFlight) return this.inFlight
    this.clearTimer()
    if (this.queue.length === 0) return Promise.resolve()
    const batch =
      this.queue.length <= this.maxExportBatchSize ? this.queue : this.queue.slice(0, this.maxExportBatchSize)
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxExportBatchSize)
    this.inFlight = exportWithTimeout(this.exporter, batch, this.exportTimeoutMs).finally(() => {
      this.inFlight = undefined
      if (this.stopped) return
      if (this.queue.length >= this.maxExportBatchSize) this.exportSoon()
      else if (this.queue.length > 0 && this.timer === undefined) this.startTimer()
    })
    return this.inFlight
  }

  private drop(count: number): void {
    counters.spansDropped += count
    this.droppedSinceWarning += count
    // hot path when the backend is down: no message is built unless it will be written.
    if (!diag.wouldWarn('TL_ERR_QUEUE_FULL')) return
    const logged = diag.warn(
      'TL_ERR_QUEUE_FULL',
      `dropped ${this.droppedSinceWarning} span(s): the export queue is full (${this.maxQueueSize}) or the processor is shut down; the exporter's backend may be down or slow`,
    )
    if (logged) this.droppedSinceWarning = 0
  }
}

/** A setting that must be a positive number (OTel SDK spec for the OTEL_BSP_* sizes and timeout). */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (value > 0 && Number.isFinite(value)) return value
  diag.warn('TL_ERR_BSP_SETTING', `batch processor ${name}=${value} must be a positive number; using ${fallback}`)
  return fallback
}

/** Runs one export, aborting it after `timeoutMs`; never rejects. Counts outcomes. */
export async function exportWithTimeout(
  exporter: SpanExporter,
  spans: readonly ReadableSpan[],
  timeoutMs: number,
): Promise<void> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`export timed out after ${timeoutMs} ms`))
      resolve('timeout')
    }, timeoutMs)
    timer.unref()
  })
  try {
    const result = await Promise.race([exporter.export(spans, controller.signal), timeout])
    if (result === 'timeout') {
      fail(spans.length, `the exporter did not finish within ${timeoutMs} ms`)
    } else if (result.ok) {
      counters.spansExported += spans.length
    } else {
      fail(spans.length, result.error.message)
    }
  } catch (error) {
    fail(spans.length, error instanceof Error ? error.message : String(error))
  } finally {
    clearTimeout(timer)
  }
}

let failedSinceWarning = 0

function fail(count: number, reason: string): void {
  counters.exportFailures++
  counters.spansDropped += count
  failedSinceWarning += count
  if (
    diag.warn(
      'TL_ERR_EXPORT_FAILED',
      `dropped ${failedSinceWarning} span(s) since the last warning: export failed: ${reason}`,
    )
  ) {
    failedSinceWarning = 0
  }
}

function withDeadline(promise: Promise<unknown>, deadline: number): Promise<void> {
  const ms = deadline - Date.now()
  if (ms <= 0) return Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
      timer.unref()
    }),
  ]).finally(() => clearTimeout(timer))
}
