import { Injectable } from '@nestjs/common'
import {
  type Attributes,
  activeSpan,
  type LogFields,
  logFields,
  type Span,
  type SpanOptions,
  startSpan,
  trace,
} from '@threadline/core'

/**
 * Injectable access to the current trace: the active span (the request's server span, or the
 * `@Traced()` span around the calling method), attributes on it, and new child spans.
 */
@Injectable()
export class TracingService {
  /** The span of the code running now, if any. */
  activeSpan(): Span | undefined {
    return activeSpan()
  }

  /** Adds attributes to the active span (nothing happens when there is none). */
  setAttributes(attributes: Attributes): void {
    activeSpan()?.setAttributes(attributes)
  }

  /** Starts a child span of the active span without making it active; end it yourself. */
  startSpan(name: string, options?: SpanOptions): Span {
    return startSpan(name, options)
  }

  /** Runs `fn` in a child span that ends when `fn` returns or its promise settles. */
  trace<R>(name: string, fn: (span: Span) => R, options?: SpanOptions): R {
    return trace(name, fn, options)
  }

  /** Trace and span ids for log correlation. */
  logFields(): LogFields {
    return logFields()
  }
}
