import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common'
import { activeContext, contextWithSpan, recordError, SpanKind, semconv, withContext } from '@threadline/core'
import type { Observable } from 'rxjs'
import { observe } from './result.js'
import { tracer } from './tracer.js'

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
    const controller = context.getClass()?.name
    const handler = context.getHandler()?.name
    const span = tracer.startSpan(`${controller}.${handler}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        [semconv.ATTR_NESTJS_TYPE]: semconv.NESTJS_TYPE_HANDLER,
        [semconv.ATTR_NESTJS_CONTEXT_TYPE]: type,
        [semconv.ATTR_NESTJS_CONTROLLER]: controller,
        [semconv.ATTR_NESTJS_HANDLER]: handler,
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
