import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common'
import { activeContext, contextWithSpan, recordError, SpanKind, withContext } from '@threadline/core'
import type { Observable } from 'rxjs'
import {
  ATTR_NESTJS_CONTEXT_TYPE,
  ATTR_NESTJS_CONTROLLER,
  ATTR_NESTJS_HANDLER,
  ATTR_NESTJS_TYPE,
  NESTJS_TYPE_HANDLER,
} from './attributes.js'
import { describeRequest, noteError } from './request.js'
import { observe } from './result.js'
import { tracer } from './tracer.js'

/**
 * The module's global interceptor, put first among the global interceptors: it names the request's
 * server span, runs the pipes and the handler with that span active (a Fastify body parser can
 * lose the context on the way), and notes what they throw. Outside HTTP (microservices,
 * websockets) it times the handler in an INTERNAL span named `Controller.handler`.
 */
export class TracingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType<string>()
    if (type === 'http') {
      const trace = describeRequest(context)
      if (!trace) return next.handle()
      // Nest binds the rest of the pipeline to the async context `handle()` is called in.
      const rest = withContext(trace.handle.context, () => next.handle())
      return observe(rest, undefined, (outcome) => {
        if (outcome.failed) noteError(trace, outcome.error)
      })
    }
    // GraphQL resolvers are traced by @threadline/graphql, which knows the operation.
    if (type === 'graphql') return next.handle()
    const controller = context.getClass()?.name
    const handler = context.getHandler()?.name
    const span = tracer.startSpan(`${controller}.${handler}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        [ATTR_NESTJS_TYPE]: NESTJS_TYPE_HANDLER,
        [ATTR_NESTJS_CONTEXT_TYPE]: type,
        [ATTR_NESTJS_CONTROLLER]: controller,
        [ATTR_NESTJS_HANDLER]: handler,
      },
    })
    if (!span.isRecording()) return next.handle()
    const rest = withContext(contextWithSpan(activeContext(), span), () => next.handle())
    return observe(rest, undefined, (outcome) => {
      if (outcome.failed) recordError(span, outcome.error)
      span.end()
    })
  }
}
