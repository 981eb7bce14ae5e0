import { activeContext, type Context, withContext } from './context.js'
import { headerGetter, headerSetter } from './propagation/propagator.js'
import { errorType } from './semconv.js'
import { type Span, SpanStatusCode, TraceFlags } from './span.js'
import { contextWithoutSpan, contextWithSpan, spanFrom } from './trace-context.js'
import { getTracer, provider, type SpanOptions } from './tracer.js'
import { VERSION } from './version.js'

const tracer = getTracer('@threadline/core', VERSION)

/**
 * Runs `fn` in a new child span of the active span and ends the span when `fn` returns or its
 * promise settles; a thrown error or rejection is recorded on the span and rethrown.
 *
 * ```ts
 * const user = await trace('load user', async (span) => { span.setAttribute('user.id', id); return db.get(id) })
 * ```
 */
export function trace<R>(name: string, fn: (span: Span) => R, options?: SpanOptions): R {
  const ctx = activeContext()
  const span = tracer.startSpan(name, options, ctx)
  return withContext(contextWithSpan(ctx, span), runAndEnd, span, fn)
}

function runAndEnd<R>(span: Span, fn: (span: Span) => R): R {
  let result: R
  try {
    result = fn(span)
  } catch (error) {
    recordError(span, error)
    span.end()
    throw error
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    return (result as unknown as PromiseLike<unknown>).then(
      (value) => {
        span.end()
        return value
      },
      (error: unknown) => {
        recordError(span, error)
        span.end()
        throw error
      },
    ) as R
  }
  span.end()
  return result
}

/** Starts a span (child of the active span) without making it active; end it yourself. */
export function startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
  return tracer.startSpan(name, options, ctx)
}

/** The span of the code running now, if any. */
export function activeSpan(): Span | undefined {
  return spanFrom(activeContext())
}

/** Runs `fn` with `span` as the active span. */
export function withSpan<R>(span: Span, fn: () => R): R {
  return withContext(contextWithSpan(activeContext(), span), fn)
}

/** Runs `fn` with no active span: spans it starts begin new traces (e.g. background work). */
export function withoutSpan<R>(fn: () => R): R {
  return withContext(contextWithoutSpan(activeContext()), fn)
}

/** Records an error on a span: an `exception` event with the stack, error status and `error.type`. */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return
  span.recordException(error)
  span.setAttribute('error.type', errorType(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/** Writes the active (or given) context into outgoing headers with the configured propagators. */
export function inject(carrier: unknown, ctx: Context = activeContext()): void {
  provider.propagator.inject(ctx, carrier, headerSetter)
}

/** Reads a parent context from incoming headers with the configured propagators. Never throws. */
export function extract(carrier: unknown, ctx: Context = activeContext()): Context {
  return provider.propagator.extract(ctx, carrier, headerGetter)
}

export interface LogFields {
  trace_id?: string
  span_id?: string
  trace_flags?: string
}

/**
 * The active trace and span ids for log correlation, e.g. `pino({ mixin: logFields })`.
 * Empty when no span is active.
 */
export function logFields(): LogFields {
  const span = spanFrom(activeContext())
  if (!span) return {}
  const sc = span.spanContext()
  return {
    trace_id: sc.traceId,
    span_id: sc.spanId,
    trace_flags: (sc.traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, '0'),
  }
}
