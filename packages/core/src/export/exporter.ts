import type { ReadableSpan } from '../span.js'

/** What an exporter reports for one batch. */
export type ExportResult =
  | { ok: true }
  | {
      ok: false
      error: Error
      /** False for permanent failures (e.g. HTTP 400): the batch will never be accepted. */
      retryable?: boolean | undefined
    }

/**
 * Sends batches of ended spans somewhere. `export` must not throw synchronously and should
 * honour `signal` (aborted when the processor's export timeout passes).
 */
export interface SpanExporter {
  export(spans: readonly ReadableSpan[], signal: AbortSignal): Promise<ExportResult>
  forceFlush?(): Promise<void>
  shutdown(): Promise<void>
}

export const EXPORT_OK: ExportResult = Object.freeze({ ok: true })
