import type { IncomingMessage } from 'node:http'
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
import type { NextFunction, Request, RequestHandler, Response } from 'express'

const VERSION = '0.1.0'

export interface ThreadlineExpressOptions {
  /** `service.name` used if this middleware starts the SDK (else OTEL_SERVICE_NAME). */
  serviceName?: string
  /** Requests left untraced: exact paths, patterns, or a predicate (no span, no cost). */
  ignore?: IgnorePaths | ((req: Request) => boolean)
  /** Adds attributes when the request starts (sampled requests only). */
  requestHook?: (span: Span, req: Request) => void
  /** Adds attributes just before the span ends. */
  responseHook?: (span: Span, req: Request, res: Response) => void
  /** Allow-listed headers recorded as `http.request.header.*` / `http.response.header.*`. */
  captureHeaders?: CaptureHeaders
  /** Overrides the span name (default `METHOD /route/template`, or `METHOD` when no route matched). */
  spanName?: (req: Request, route: string | undefined) => string
}

/** Set on the request while it is traced, so the error handlers we wrap can find the span. */
const HANDLE = Symbol('threadline.express.span')
type TracedRequest = Request & { [HANDLE]?: ServerSpanHandle }

/**
 * One SERVER span per request, named by the route template. Add it first:
 * `app.use(threadline({ serviceName: 'gateway' }))`.
 */
export function threadline(options: ThreadlineExpressOptions = {}): RequestHandler {
  ensureStarted({ serviceName: options.serviceName })
  const tracer = getTracer('@threadline/express', VERSION)
  // client.address is what Express's req.ip says. hot path: when the app does not trust the
  // connecting peer (the default), req.ip is the socket's address, which core reads directly;
  // req.ip itself parses X-Forwarded-For on every call.
  const direct: ServerSpanOptions = { tracer, captureHeaders: options.captureHeaders }
  const proxied: ServerSpanOptions = { ...direct, trustProxy: true, clientAddress: requestIp }
  const { ignore, requestHook, responseHook, spanName } = options
  const ignorePaths = Array.isArray(ignore) ? (ignore as IgnorePaths) : undefined
  const ignoreFn = typeof ignore === 'function' ? ignore : undefined

  return function threadlineMiddleware(req: Request, res: Response, next: NextFunction): void {
    if ((ignorePaths && isIgnoredPath(req.originalUrl, ignorePaths)) || (ignoreFn && safeTest(ignoreFn, req))) {
      // nothing inside an ignored request (a health check's database ping) starts a trace either
      suppressTracing(next)
      return
    }
    const handle = startServerSpan(req, res, trustsPeer(req) ? proxied : direct)
    if (handle.recording) {
      ;(req as TracedRequest)[HANDLE] = handle
      trackRoute(req, handle, captureErrors(req))
      if (requestHook) {
        try {
          requestHook(handle.span, req)
        } catch {
          // a user's hook never breaks the request
        }
      }
      if (responseHook || spanName) {
        handle.onEnd((span) => {
          if (spanName) span.updateName(spanName(req, routeOf(req)))
          responseHook?.(span, req, res)
        })
      }
    }
    handle.run(next)
  }
}

function requestIp(req: IncomingMessage): string | undefined {
  return (req as Request).ip
}

/** Whether the app trusts the connecting peer's X-Forwarded-Proto/-Host (what `req.protocol` checks). */
function trustsPeer(req: Request): boolean {
  const trust = req.app?.get('trust proxy fn') as ((address: string | undefined, i: number) => boolean) | undefined
  if (typeof trust !== 'function') return false
  try {
    return trust(req.socket?.remoteAddress, 0) === true
  } catch {
    return false
  }
}

function safeTest(fn: (req: Request) => boolean, req: Request): boolean {
  try {
    return fn(req) === true
  } catch {
    return false
  }
}

/** Per-request route state, read by the `baseUrl` / `route` accessors below. */
interface RouteState {
  /** Template of the current baseUrl (`/tenants/:tenant`). */
  template: string
  /** The full route template last dispatched to. */
  full: string | undefined
  /** Mounted prefixes seen (actual → template); routers restore baseUrl when they exit. */
  mounts: Array<[string, string]> | undefined
}
const STATE = Symbol('threadline.express.route')
const BASE_URL_VALUE = Symbol('threadline.express.baseUrl')
const ROUTE_VALUE = Symbol('threadline.express.routeValue')
type RoutedRequest = Request & { [STATE]?: RouteState; [BASE_URL_VALUE]?: unknown; [ROUTE_VALUE]?: unknown }

/**
 * The matched route's template; else, when a middleware mounted on a path answered
 * (`app.use('/graphql', yoga)`), that mount's template. Never for a 404: the path did not exist.
 */
function routeOf(req: Request): string | undefined {
  const state = (req as RoutedRequest)[STATE]
  if (!state) return undefined
  if (state.full) return state.full
  // the router restores baseUrl when a mount calls next(), so a template left here answered
  return state.template && req.res?.statusCode !== 404 ? state.template : undefined
}

// `req.baseUrl` and `req.route` as accessors that keep Express's values and, on a traced request,
// compute the route template as the router assigns them.
const BASE_URL: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: RoutedRequest) {
    return this[BASE_URL_VALUE]
  },
  set(this: RoutedRequest, value: unknown) {
    this[BASE_URL_VALUE] = value
    const state = this[STATE]
    if (!state) return
    // never throw inside Express's router: a surprise here only costs the route name
    try {
      state.template = typeof value === 'string' ? mountTemplate(state, value, this.params ?? {}) : ''
    } catch {
      state.template = ''
    }
  },
}
const ROUTE: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: RoutedRequest) {
    return this[ROUTE_VALUE]
  },
  set(this: RoutedRequest, value: { path?: unknown } | undefined) {
    this[ROUTE_VALUE] = value
    const state = this[STATE]
    if (!state || !value || typeof value !== 'object') return
    const path = renderPath(value.path)
    state.full = state.template && path === '/' ? state.template : state.template + path
  },
}

/** The apps' own request prototypes (`app.request`) that carry the accessors. */
const preparedPrototypes = new WeakSet<object>()

/**
 * Finds the route template without patching Express: the router assigns `req.baseUrl` when it
 * enters a mounted router (with that mount's `req.params` in place) and `req.route` when it
 * dispatches to a route, so accessors see each step with the template at hand.
 */
function trackRoute(req: Request, handle: ServerSpanHandle, perRequest: boolean): void {
  const r = req as RoutedRequest
  const baseUrl = typeof req.baseUrl === 'string' ? req.baseUrl : ''
  r[STATE] = { template: baseUrl, full: undefined, mounts: undefined }
  handle.setRoute(() => routeOf(req))
  // hot path: the accessors live once on this app's own `app.request` object (never Express's
  // module prototypes), not on every request: Object.defineProperty on a request costs ~4 µs
  // (it turns the object into a slow dictionary), measured with two properties on an IncomingMessage.
  const proto = Object.getPrototypeOf(req) as object | null
  if (!perRequest && proto !== null && proto === (req.app as { request?: object } | undefined)?.request) {
    if (!preparedPrototypes.has(proto)) {
      Object.defineProperty(proto, 'baseUrl', BASE_URL)
      Object.defineProperty(proto, 'route', ROUTE)
      preparedPrototypes.add(proto)
    }
    if (!Object.hasOwn(req, 'baseUrl') && !Object.hasOwn(req, 'route')) return
  }
  // Sub-apps swap the request's prototype mid-request; the app's first request, and every Express 4
  // request (its router assigns baseUrl before expressInit sets the prototype), already hold own
  // values: accessors on the request itself work in all of these cases.
  r[BASE_URL_VALUE] = req.baseUrl
  r[ROUTE_VALUE] = req.route
  Object.defineProperty(req, 'baseUrl', BASE_URL)
  Object.defineProperty(req, 'route', ROUTE)
}

function mountTemplate(state: RouteState, url: string, params: Record<string, unknown>): string {
  if (url === '') return ''
  if (!state.mounts) state.mounts = [['', '']]
  const mounts = state.mounts
  let best: [string, string] | undefined
  for (const m of mounts) {
    if (m[0] === url) return m[1]
    if (url.startsWith(m[0]) && (!best || m[0].length > best[0].length)) best = m
  }
  const [prefix, prefixTemplate] = best ?? ['', '']
  const segments = url.slice(prefix.length).split('/')
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string
    if (!segment) continue
    for (const key in params) {
      if (params[key] === segment || params[key] === safeDecode(segment)) {
        segments[i] = `:${key}`
        break
      }
    }
  }
  const template = prefixTemplate + segments.join('/')
  mounts.push([url, template])
  return template
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Route paths as written: strings as is, regular expressions as their source, arrays joined. */
function renderPath(path: unknown): string {
  if (typeof path === 'string') return path
  if (path instanceof RegExp) return String(path)
  if (Array.isArray(path)) return path.map(renderPath).join(',')
  return ''
}

// ---------------------------------------------------------------------------------------------
// Errors. Express hands a failure (a throw, next(err), a rejected async handler in Express 5)
// from layer to layer inside its router, where a middleware cannot see it. So once per router
// we wrap the app's own error handlers (4-argument functions) on the layers of this app, and
// keep one error-noting layer last for errors no handler catches. Express's modules are not
// touched; only this app's layer objects.

interface Layer {
  handle: ((...args: never[]) => unknown) & { stack?: Layer[]; [WRAPPED]?: true }
  route?: { stack?: Layer[] }
}
interface Router {
  stack: Layer[]
  use(fn: unknown): unknown
}
const WRAPPED = Symbol('threadline.express.wrapped')

/** Per app router: the stack length last walked, and whether a sub-app is mounted in it. */
const walked = new WeakMap<Router, { length: number; subApps: boolean }>()

/** Prepares error capture for this app (see above); returns true when the app mounts sub-apps. */
function captureErrors(req: Request): boolean {
  const app = req.app as unknown as { _router?: Router; router?: Router } | undefined
  // Express 4 keeps the router in app._router (created lazily); Express 5 exposes app.router.
  const router = app?._router ?? app?.router
  if (!router || !Array.isArray(router.stack)) return true
  const last = router.stack[router.stack.length - 1]
  const seen = walked.get(router)
  if (seen?.length === router.stack.length && last?.handle === noteUnhandledError) return seen.subApps
  const ours = router.stack.findIndex((l) => l.handle === noteUnhandledError)
  if (ours >= 0) router.stack.splice(ours, 1)
  const subApps = wrapErrorHandlers(router.stack, new Set())
  router.use(noteUnhandledError)
  walked.set(router, { length: router.stack.length, subApps })
  return subApps
}

/** Wraps error handlers in these layers and the routers below; true if a sub-app is mounted. */
function wrapErrorHandlers(stack: Layer[], seen: Set<Layer[]>): boolean {
  if (seen.has(stack)) return false
  seen.add(stack)
  let subApps = false
  for (const layer of stack) {
    const fn = layer.handle
    if (typeof fn !== 'function' || fn === (noteUnhandledError as unknown)) continue
    // Express mounts an app with `app.use(path, subApp)` through a function named mounted_app
    if (fn.name === 'mounted_app') subApps = true
    if (Array.isArray(fn.stack) && wrapErrorHandlers(fn.stack, seen)) subApps = true
    if (layer.route?.stack) wrapErrorHandlers(layer.route.stack, seen)
    if (fn.length === 4 && !fn[WRAPPED]) layer.handle = wrapErrorHandler(fn)
  }
  return subApps
}

function wrapErrorHandler(fn: Layer['handle']): Layer['handle'] {
  const original = fn as unknown as (err: unknown, req: Request, res: Response, next: NextFunction) => unknown
  // four declared parameters: Express only passes errors to functions with length 4
  const wrapped = function (this: unknown, err: unknown, req: Request, res: Response, next: NextFunction) {
    ;(req as TracedRequest)[HANDLE]?.recordError(err)
    return original.call(this, err, req, res, next)
  } as unknown as Layer['handle']
  wrapped[WRAPPED] = true
  return wrapped
}

function noteUnhandledError(err: unknown, req: Request, _res: Response, next: NextFunction): void {
  ;(req as TracedRequest)[HANDLE]?.recordError(err)
  next(err)
}
