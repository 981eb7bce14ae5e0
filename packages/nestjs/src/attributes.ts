/**
 * Nest-specific span attributes. Kept in this one file until they move to core's semconv module
 * (the adapters never spell an attribute name elsewhere).
 */

/** The controller (or resolver, gateway) class that handled the request: `CatsController`. */
export const ATTR_NESTJS_CONTROLLER = 'nestjs.controller'
/** The handler method: `findOne`. */
export const ATTR_NESTJS_HANDLER = 'nestjs.handler'
/** What an INTERNAL pipeline span times: `guard`, `pipe`, `interceptor`, `filter`, or `handler`. */
export const ATTR_NESTJS_TYPE = 'nestjs.type'
/** The guard class that refused the request (returned false or threw a 4xx `HttpException`). */
export const ATTR_NESTJS_GUARD_REJECTED = 'nestjs.guard.rejected'
/** `ExecutionContext.getType()` of a handler span outside HTTP: `rpc`, `ws`. */
export const ATTR_NESTJS_CONTEXT_TYPE = 'nestjs.context_type'

export const NESTJS_TYPE_GUARD = 'guard'
export const NESTJS_TYPE_PIPE = 'pipe'
export const NESTJS_TYPE_INTERCEPTOR = 'interceptor'
export const NESTJS_TYPE_FILTER = 'filter'
export const NESTJS_TYPE_HANDLER = 'handler'
