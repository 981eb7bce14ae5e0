import {
  type CaptureHeaders,
  ensureStarted,
  getTracer,
  type IgnorePaths,
  isIgnoredPath,
  type ServerSpanHandle,
  type ServerSpanOptions,
  type Span,
  startServerSpan,
  suppressTracing,
} from '@threadline/core'
import type { Context, Middleware, Next } from 'koa'

const VERSION = '0.1.0'

export interface ThreadlineKoaOptions {
  /** `service.name` used if this middleware starts the SDK (else OTEL_SERVICE_NAME). */
  serviceName?: string
  /** Requests left untraced: exact paths, patterns, or a predicate (no span, no cost). */
  ignore?: IgnorePaths | ((ctx: Context) => boolean)
  /** Adds attributes when the request starts (sampled requests only). */
  requestHook?: (span: Span, ctx: Context) => void
  /** Adds attributes just before the span ends. */
  responseHook?: (span: Span, ctx: Context) => void
  /** Allow-listed headers recorded as `http.request.header.*` / `http.response.header.*`. */
  captureHeaders?: CaptureHeaders
  /** Overrides the span name (default `METHOD /route/template`, or `METHOD` when no route matched). */
  spanName?: (ctx: Context, route: string | undefined) => string
}

/** What @koa/router and koa-router leave on the context: the matched layer's full path. */
type RoutedContext = Context & { _matchedRoute?: string | RegExp }

/**
 * One SERVER span per request, named by the route template. Add it first:
 * `app.use(threadline({ serviceName: 'orders' }))`.
 */
export function threadline(options: ThreadlineKoaOptions = {}): Middleware {
  ensureStarted({ serviceName: options.serviceName })
  const tracer = getTracer('@threadline/koa', VERSION)
  const direct: ServerSpanOptions = { tracer, captureHeaders: options.captureHeaders }
  const proxied: ServerSpanOptions = { ...direct, trustProxy: true }
  const { ignore, requestHook, responseHook, spanName } = options
  const ignorePaths = Array.isArray(ignore) ? (ignore as IgnorePaths) : undefined
  const ignoreFn = typeof ignore === 'function' ? ignore : undefined

  return async function threadlineMiddleware(ctx: Context, next: Next): Promise<void> {
    // nothing inside an ignored request (a health check's database ping) starts a trace either
    if (ignorePaths && isIgnoredPath(ctx.url, ignorePaths)) return suppressTracing(next)
    if (ignoreFn && safeTest(ignoreFn, ctx)) return suppressTracing(next)
    const handle = startServerSpan(ctx.req, ctx.res, ctx.app.proxy ? proxied : direct)
    if (!handle.recording) return handle.run(next)
    ;(ctx as TracedContext)[HANDLE] = handle
    listenForReportedErrors(ctx.app)
    // read when the span ends: Koa writes the body (and a client may abort) after we return
    handle.setRoute(() => routeOf(ctx as RoutedContext))
    if (requestHook) {
      try {
        requestHook(handle.span, ctx)
      } catch {
        // a user's hook never breaks the request
      }
    }
    if (responseHook || spanName) {
      handle.onEnd((span) => {
        if (spanName) span.updateName(spanName(ctx, routeOf(ctx as RoutedContext)))
        responseHook?.(span, ctx)
      })
    }
    try {
      await handle.run(next)
    } catch (error) {
      // Koa (or an error middleware placed before this one) turns it into the response.
      handle.recordError(error)
      throw error
    }
  }
}

const HANDLE = Symbol('threadline.koa.span')
type TracedContext = Context & { [HANDLE]?: ServerSpanHandle }
const listening = new WeakSet<object>()

/**
 * An error middleware placed after this one catches errors before we see them; Koa's convention
 * is that it reports them with `ctx.app.emit('error', err, ctx)`, so we listen for that too. Koa
 * adds its own logging listener in `callback()`, before any request, so ours does not silence it.
 */
function listenForReportedErrors(app: Context['app']): void {
  if (listening.has(app)) return
  listening.add(app)
  app.on('error', (error: unknown, ctx?: TracedContext) => {
    ctx?.[HANDLE]?.recordError(error)
  })
}

function routeOf(ctx: RoutedContext): string | undefined {
  const route = ctx._matchedRoute
  return route === undefined ? undefined : String(route)
}

function safeTest(fn: (ctx: Context) => boolean, ctx: Context): boolean {
  try {
    return fn(ctx) === true
  } catch {
    return false
  }
}
