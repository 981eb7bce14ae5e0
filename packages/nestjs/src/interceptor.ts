import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common'
import {
  activeContext,
  contextWithSpan,
  recordError,
  SpanKind,
  type SpanOptions,
  semconv,
  withContext,
} from '@threadline/core'
import type { Observable } from 'rxjs'
import { observe } from './result.js'
import { tracer } from './tracer.js'

/** A handler's span name and options, made on its first call. */
interface HandlerSpan {
  readonly type: string
  readonly name: string
  readonly options: SpanOptions
}

const handlerSpans = new WeakMap<object, HandlerSpan>()

/**
 * The module's global interceptor, for handlers outside HTTP (microservices, websockets): times
 * each in an INTERNAL span named `Controller.handler`. HTTP routes are registered without it (see
 * `TracingModule.configure`), so they skip Nest's Observable machinery.
 */
export class TracingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType<string>()
    // HTTP has its server span; GraphQL resolvers are traced by @threadline/graphql.
    if (type === 'http' || type === 'graphql') return next.handle()
    const { name, options } = handlerSpan(context, type)
    const span = tracer.startSpan(name, options)
    if (!span.isRecording()) return next.handle()
    const rest = withContext(contextWithSpan(activeContext(), span), () => next.handle())
    return observe(rest, undefined, (failed, _value, error) => {
      if (failed) recordError(span, error)
      span.end()
    })
  }
}

// hot path: a handler's span name and attributes are the same on every call: one lookup instead
// of a new string and attribute object (measured: 3.5 -> 3.2 KB allocated per RPC call)
function handlerSpan(context: ExecutionContext, type: string): HandlerSpan {
  const handler = context.getHandler()
  const known = handler ? handlerSpans.get(handler) : undefined
  if (known?.type === type) return known
  const controller = context.getClass()?.name
  const method = handler?.name
  const made: HandlerSpan = {
    type,
    name: `${controller}.${method}`,
    options: {
      kind: SpanKind.INTERNAL,
      attributes: {
        [semconv.ATTR_NESTJS_TYPE]: semconv.NESTJS_TYPE_HANDLER,
        [semconv.ATTR_NESTJS_CONTEXT_TYPE]: type,
        [semconv.ATTR_NESTJS_CONTROLLER]: controller,
        [semconv.ATTR_NESTJS_HANDLER]: method,
      },
    },
  }
  if (handler) handlerSpans.set(handler, made)
  return made
}
