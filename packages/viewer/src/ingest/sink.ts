import type { Store } from '../store/store.js'
import type { DecodeResult } from './limits.js'

/** Where every listener hands decoded spans; counts what came in for `/api/v1/status`. */
export class IngestSink {
  receivedSpans = 0
  rejectedSpans = 0
  failedRequests = 0
  private windowStart = 0
  private linesInWindow = 0
  private suppressed = 0

  constructor(
    readonly store: Store,
    private readonly output: (line: string) => void,
  ) {}

  /** At most 10 lines per 10 s, so a misbehaving client cannot flood the terminal. */
  private log(line: string): void {
    const now = Date.now()
    if (now - this.windowStart > 10_000) {
      if (this.suppressed) this.output(`(${this.suppressed} more ingest problems not shown)`)
      this.windowStart = now
      this.linesInWindow = 0
      this.suppressed = 0
    }
    if (this.linesInWindow++ < 10) this.output(line)
    else this.suppressed++
  }

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
