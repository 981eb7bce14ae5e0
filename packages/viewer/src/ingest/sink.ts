import type { Store } from '../store/store.js'
import type { DecodeResult } from './limits.js'

/** Where every listener hands decoded spans; counts what came in for `/api/v1/status`. */
export class IngestSink {
  receivedSpans = 0
  rejectedSpans = 0
  failedRequests = 0
  constructor(
    readonly store: Store,
    private readonly log: (line: string) => void,
  ) {}

  async accept(result: DecodeResult, source: string): Promise<void> {
    this.receivedSpans += result.spans.length
    if (result.rejected) {
      this.rejectedSpans += result.rejected
      this.log(`${source}: ${result.rejected} span(s) rejected: ${result.reasons[0]}`)
    }
    if (result.spans.length) await this.store.add(result.spans)
  }

  refused(source: string, status: number, message: string): void {
    this.failedRequests++
    this.log(`${source}: ${status} ${message}`)
  }
}
