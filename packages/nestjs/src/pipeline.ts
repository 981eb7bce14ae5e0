/**
 * Guards, pipes, interceptors and exception filters, seen from inside. Nest calls these through
 * the instances it created when the application started, so the module wraps the methods of
 * those instances (never Nest's own classes): a guard that refuses a request and the exception a
 * filter answers are recorded on the server span, and, with `pipelineSpans`, each enhancer call
 * is an INTERNAL span named by class.
 */
import type { ArgumentsHost, CallHandler, ExecutionContext } from '@nestjs/common'
import {
  contextWithSpan,
  recordError,
  type Span,
  SpanKind,
  type SpanOptions,
  semconv,
  withContext,
} from '@threadline/core'
import { describeRequest, noteError, type RequestTrace, traceOf } from './request.js'
import { isClientError, observe } from './result.js'
import { tracer } from './tracer.js'

const WRAPPED = Symbol.for('threadline.nestjs.wrapped')

type Method = ((...args: never[]) => unknown) & { [WRAPPED]?: true }
type Enhancer = Record<string, unknown>

/** Wraps the enhancer methods of one instance (once; other objects are left alone). */
export function instrumentEnhancer(instance: unknown, spans: boolean): void {
  if (instance === null || typeof instance !== 'object') return
  const target = instance as Enhancer
  const name = (instance as object).constructor?.name || 'Anonymous'
  wrap(target, 'canActivate', (fn) => tracedGuard(fn, name, spans))
  wrap(target, 'catch', (fn) => tracedFilter(fn, name, spans))
  if (!spans) return
  wrap(target, 'intercept', (fn) => tracedInterceptor(fn, name))
  wrap(target, 'transform', (fn) => tracedPipe(fn, name))
}

function wrap(target: Enhancer, key: string, make: (fn: Method) => Method): void {
  const fn = target[key] as Method | undefined
  if (typeof fn !== 'function' || fn[WRAPPED]) return
  const wrapped = make(fn)
  wrapped[WRAPPED] = true
  // an own property on this instance: the class and other instances are untouched
  Object.defineProperty(target, key, { value: wrapped, writable: true, configurable: true, enumerable: false })
}

/** The request's trace when `context` is HTTP, after naming its server span. */
function httpTrace(context: ArgumentsHost): RequestTrace | undefined {
  if (context.getType() !== 'http') return undefined
  if (typeof (context as ExecutionContext).getHandler === 'function') {
    return describeRequest(context as ExecutionContext)
  }
  // argument 0 is the request (switchToHttp() assigns three new closures onto the context)
  return traceOf(context.getArgByIndex(0))
}

/** Span options per enhancer type, made once (the tracer copies the attributes it is given). */
const childOptions = new Map<string, SpanOptions>()

function optionsFor(type: string): SpanOptions {
  let options = childOptions.get(type)
  if (!options) {
    options = { kind: SpanKind.INTERNAL, attributes: { [semconv.ATTR_NESTJS_TYPE]: type } }
    childOptions.set(type, options)
  }
  return options
}

function startChild(trace: RequestTrace, name: string, type: string): Span {
  return tracer.startSpan(name, optionsFor(type), trace.handle.context)
}

/** Ends an enhancer span; a 4xx `HttpException` is an event on it, not an error. */
function endChild(span: Span, failed: boolean, error: unknown): void {
  if (failed) {
    if (isClientError(error)) span.recordException(error)
    else recordError(span, error)
  }
  span.end()
}

function tracedGuard(fn: Method, name: string, spans: boolean): Method {
  const canActivate = fn as unknown as (context: ExecutionContext) => unknown
  return function (this: unknown, context: ExecutionContext) {
    const trace = httpTrace(context)
    if (!trace?.handle.recording) return canActivate.call(this, context)
    const span = spans ? startChild(trace, name, semconv.NESTJS_TYPE_GUARD) : undefined
    let result: unknown
    try {
      result = span
        ? withContext(contextWithSpan(trace.handle.context, span), () => canActivate.call(this, context))
        : canActivate.call(this, context)
    } catch (error) {
      guardSettled(trace, span, name, true, undefined, error)
      throw error
    }
    // hot path: a guard that answers a boolean is settled here, without a closure per request
    if (typeof result === 'boolean') {
      guardSettled(trace, span, name, false, result, undefined)
      return result
    }
    return observe(result, undefined, (failed, value, error) => guardSettled(trace, span, name, failed, value, error))
  } as unknown as Method
}

/** A refusal (false, or a 4xx `HttpException`) names the guard; any other exception is the request's error. */
function guardSettled(
  trace: RequestTrace,
  span: Span | undefined,
  name: string,
  failed: boolean,
  value: unknown,
  error: unknown,
): void {
  if (failed ? isClientError(error) : value === false) {
    trace.handle.span.setAttribute(semconv.ATTR_NESTJS_GUARD_REJECTED, name)
    span?.setAttribute(semconv.ATTR_NESTJS_GUARD_REJECTED, name)
  }
  if (failed) noteError(trace, error)
  if (span) endChild(span, failed, error)
}

function tracedPipe(fn: Method, name: string): Method {
  const transform = fn as unknown as (value: unknown, metadata: unknown) => unknown
  return function (this: unknown, value: unknown, metadata: unknown) {
    // pipes get no ExecutionContext: the active span tells whether a request is traced
    const span = tracer.startSpan(name, optionsFor(semconv.NESTJS_TYPE_PIPE))
    if (!span.isRecording()) return transform.call(this, value, metadata)
    let result: unknown
    try {
      result = transform.call(this, value, metadata)
    } catch (error) {
      endChild(span, true, error)
      throw error
    }
    return observe(result, undefined, (failed, _value, error) => endChild(span, failed, error))
  } as unknown as Method
}

/**
 * Two spans per interceptor: `Name` from `intercept()` until it calls `next.handle()`, and
 * `Name (after)` from the handler's answer until the interceptor's own Observable ends, so the
 * handler's time is in neither.
 */
function tracedInterceptor(fn: Method, name: string): Method {
  const intercept = fn as unknown as (context: ExecutionContext, next: CallHandler) => unknown
  return function (this: unknown, context: ExecutionContext, next: CallHandler) {
    const trace = httpTrace(context)
    if (!trace?.handle.recording) return intercept.call(this, context, next)
    const before = startChild(trace, name, semconv.NESTJS_TYPE_INTERCEPTOR)
    let beforeOpen = true
    let after: Span | undefined
    const endBefore = () => {
      if (beforeOpen) {
        beforeOpen = false
        before.end()
      }
    }
    const handler: CallHandler = {
      handle: () => {
        endBefore()
        return observe(next.handle(), undefined, () => {
          after = startChild(trace, `${name} (after)`, semconv.NESTJS_TYPE_INTERCEPTOR)
        })
      },
    }
    let result: unknown
    try {
      result = withContext(contextWithSpan(trace.handle.context, before), () => intercept.call(this, context, handler))
    } catch (error) {
      beforeOpen = false
      endChild(before, true, error)
      throw error
    }
    return observe(result, undefined, (failed, _value, error) => {
      if (beforeOpen) {
        beforeOpen = false
        endChild(before, failed, error)
      } else if (after) endChild(after, failed, error)
      if (failed) noteError(trace, error)
    })
  } as unknown as Method
}

function tracedFilter(fn: Method, name: string, spans: boolean): Method {
  const catchFn = fn as unknown as (exception: unknown, host: ArgumentsHost) => unknown
  return function (this: unknown, exception: unknown, host: ArgumentsHost) {
    const trace = httpTrace(host)
    if (!trace?.handle.recording) return catchFn.call(this, exception, host)
    // the exception this filter turns into a response is the request's error
    noteError(trace, exception)
    if (!spans) return catchFn.call(this, exception, host)
    const span = startChild(trace, name, semconv.NESTJS_TYPE_FILTER)
    let result: unknown
    try {
      result = withContext(contextWithSpan(trace.handle.context, span), () => catchFn.call(this, exception, host))
    } catch (error) {
      endChild(span, true, error)
      throw error
    }
    return observe(result, undefined, (failed, _value, error) => endChild(span, failed, error))
  } as unknown as Method
}
