/**
 * The HTTP server span lifecycle, written once for every server adapter (Express, Koa, Nest):
 * extract the parent from the headers, start a SERVER span, record the request, run the handler
 * with the span active, and name, mark and end the span when the response finishes or the
 * connection closes first. Adapters only tell it the route and the error they saw.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extract } from '../api.js'
import { activeContext, type Context, createContextKey, withContext } from '../context.js'
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  errorType,
  headerAttributeName,
  httpServerStatus,
  httpSpanName,
  normalizeMethod,
  redactQuery,
} from '../semconv.js'
import { type Span, SpanKind, SpanStatusCode } from '../span.js'
import { contextWithSpan } from '../trace-context.js'
import type { Tracer } from '../tracer.js'

/** Header names (any case) whose values are recorded as `http.{request,response}.header.<name>`. */
export interface CaptureHeaders {
  request?: readonly string[] | undefined
  response?: readonly string[] | undefined
}

export interface ServerSpanOptions {
  /** The adapter's tracer (`getTracer('@threadline/express', VERSION)`). */
  tracer: Tracer
  /** Allow-lists; a header is recorded only when named here (so `authorization` only if listed). */
  captureHeaders?: CaptureHeaders | undefined
  /**
   * The framework trusts proxy headers (Express `trust proxy`, Koa `app.proxy`): `client.address`,
   * `url.scheme` and `server.address` come from `X-Forwarded-For/-Proto/-Host`.
   */
  trustProxy?: boolean | undefined
  /**
   * `client.address` as the framework resolves it (Express's `req.ip` walks `X-Forwarded-For` with
   * its `trust proxy` rules). Called only for sampled requests; without it, the socket's peer (or
   * the first `X-Forwarded-For` entry when `trustProxy`).
   */
  clientAddress?: ((req: IncomingMessage) => string | undefined) | undefined
}

/** One request's server span, as an adapter drives it. */
export interface ServerSpanHandle {
  readonly span: Span
  /** The context with the server span active: run the rest of the request in it. */
  readonly context: Context
  /** False when the request is not sampled: the adapter can skip its own bookkeeping too. */
  readonly recording: boolean
  /**
   * The matched route template (`/users/:id`), or a function read when the span ends (for
   * frameworks that store the route on their own request object). The last call wins.
   */
  setRoute(route: string | (() => string | undefined) | undefined): void
  /** The exception behind a failure; recorded with its stack when the span ends. */
  recordError(error: unknown): void
  /** Called once just before the span ends (adapters run `responseHook` and `spanName` here). */
  onEnd(hook: (span: Span) => void): void
  /** Runs `fn` with the server span active. */
  run<R>(fn: () => R): R
}

const SERVER_REQUEST_KEY = createContextKey('http.server-request')

/**
 * The server span handle of the request `ctx` belongs to (the active context by default), for
 * code deeper in the request (a GraphQL plugin) that adds to the SERVER span. Undefined outside a
 * traced request, and for a request that is not sampled.
 */
export function serverRequestFrom(ctx: Context = activeContext()): ServerSpanHandle | undefined {
  return ctx.getValue(SERVER_REQUEST_KEY) as ServerSpanHandle | undefined
}

/** `error.type` for a request whose connection closed before the response finished. */
export const ERROR_TYPE_ABORTED = 'aborted'

/**
 * Starts the SERVER span for `req` and ends it when `res` finishes or closes. Never throws into
 * the request: a malformed header starts a new trace, a failing hook is ignored.
 */
export function startServerSpan(
  req: IncomingMessage,
  res: ServerResponse,
  options: ServerSpanOptions,
): ServerSpanHandle {
  const parent = extract(req.headers)
  const { method, original } = normalizeMethod(req.method)
  const span = options.tracer.startSpan(httpSpanName(method), { kind: SpanKind.SERVER }, parent)
  const context = contextWithSpan(parent, span)
  // hot path: an unsampled request gets a context for propagation and nothing else (no
  // attributes, no listeners), so it costs one extract and one span object.
  if (!span.isRecording()) return new UnsampledRequest(span, context)
  return new RecordedRequest(span, context, req, res, method, original, options)
}

class UnsampledRequest implements ServerSpanHandle {
  readonly recording = false
  constructor(
    readonly span: Span,
    readonly context: Context,
  ) {}
  setRoute(): void {}
  recordError(): void {}
  onEnd(): void {}
  run<R>(fn: () => R): R {
    return withContext(this.context, fn)
  }
}

class RecordedRequest implements ServerSpanHandle {
  readonly recording = true
  private route: string | (() => string | undefined) | undefined
  private error: unknown
  private hasError = false
  private endHooks: Array<(span: Span) => void> | undefined
  private ended = false
  /** The server span's context, with this handle in it (see `serverRequestFrom`). */
  readonly context: Context

  constructor(
    readonly span: Span,
    context: Context,
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly method: string,
    original: string | undefined,
    private readonly options: ServerSpanOptions,
  ) {
    this.context = context.setValue(SERVER_REQUEST_KEY, this)
    setRequestAttributes(span, req, method, original, options)
    // hot path: one listener. A response always emits 'close' (a tick after 'finish' when it
    // completed); unfinished at 'close' means the connection went away first.
    res.on('close', () => this.end(!res.writableFinished))
  }

  setRoute(route: string | (() => string | undefined) | undefined): void {
    this.route = route
  }

  recordError(error: unknown): void {
    this.error = error
    this.hasError = true
  }

  onEnd(hook: (span: Span) => void): void {
    if (this.endHooks) this.endHooks.push(hook)
    else this.endHooks = [hook]
  }

  run<R>(fn: () => R): R {
    return withContext(this.context, fn)
  }

  private end(aborted: boolean): void {
    if (this.ended) return
    this.ended = true
    const { span, res } = this
    try {
      const route = typeof this.route === 'function' ? safeRoute(this.route) : this.route
      if (route) span.setAttribute(ATTR_HTTP_ROUTE, route)
      span.updateName(httpSpanName(this.method, route))
      const statusCode = aborted && !res.headersSent ? undefined : res.statusCode
      if (statusCode !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode)
      const response = this.options.captureHeaders?.response
      if (response) captureResponseHeaders(span, res, response)
      if (this.hasError) span.recordException(this.error)
      const status = httpServerStatus(statusCode)
      if (aborted) {
        span.setAttribute(ATTR_ERROR_TYPE, this.hasError ? errorType(this.error) : ERROR_TYPE_ABORTED)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the connection closed before the response finished' })
      } else if (status.code === SpanStatusCode.ERROR) {
        span.setAttribute(ATTR_ERROR_TYPE, this.hasError ? errorType(this.error) : String(statusCode))
        span.setStatus(this.hasError ? { code: SpanStatusCode.ERROR, message: errorMessage(this.error) } : status)
      }
      if (this.endHooks) for (const hook of this.endHooks) runHook(hook, span)
    } finally {
      span.end()
    }
  }
}

function safeRoute(read: () => string | undefined): string | undefined {
  try {
    const route = read()
    return typeof route === 'string' ? route : undefined
  } catch {
    return undefined
  }
}

function runHook(hook: (span: Span) => void, span: Span): void {
  try {
    hook(span)
  } catch {
    // a user's hook must not break the request or leave the span open
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return typeof error === 'string' ? error : String(error)
}

function setRequestAttributes(
  span: Span,
  req: IncomingMessage,
  method: string,
  original: string | undefined,
  options: ServerSpanOptions,
): void {
  const headers = req.headers
  const trustProxy = options.trustProxy === true
  span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method)
  if (original !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, original)
  // Express rewrites req.url inside mounts; originalUrl is what the client sent.
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
  const q = url.indexOf('?')
  span.setAttribute(ATTR_URL_PATH, q < 0 ? url : url.slice(0, q))
  if (q >= 0 && q < url.length - 1) span.setAttribute(ATTR_URL_QUERY, redactQuery(url.slice(q + 1)))
  const forwardedProto = trustProxy ? firstValue(headers['x-forwarded-proto']) : undefined
  span.setAttribute(
    ATTR_URL_SCHEME,
    forwardedProto || ((req.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http'),
  )
  const host = (trustProxy ? firstValue(headers['x-forwarded-host']) : undefined) || headers.host
  if (host) setServerAddress(span, host)
  const client = options.clientAddress
    ? safeClientAddress(options.clientAddress, req)
    : (trustProxy ? firstValue(headers['x-forwarded-for']) : undefined) || req.socket?.remoteAddress
  if (client) span.setAttribute(ATTR_CLIENT_ADDRESS, client)
  const userAgent = headers['user-agent']
  if (userAgent) span.setAttribute(ATTR_USER_AGENT_ORIGINAL, userAgent)
  if (req.httpVersion) span.setAttribute(ATTR_NETWORK_PROTOCOL_VERSION, protocolVersion(req.httpVersion))
  const request = options.captureHeaders?.request
  if (request) {
    for (const name of request) {
      const value = headers[name.toLowerCase()]
      if (value !== undefined) span.setAttribute(headerAttributeName('request', name), toStrings(value))
    }
  }
}

function safeClientAddress(read: (req: IncomingMessage) => string | undefined, req: IncomingMessage) {
  try {
    const address = read(req)
    return typeof address === 'string' ? address : undefined
  } catch {
    return req.socket?.remoteAddress
  }
}

function captureResponseHeaders(span: Span, res: ServerResponse, names: readonly string[]): void {
  for (const name of names) {
    const value = res.getHeader(name)
    if (value !== undefined) span.setAttribute(headerAttributeName('response', name), toStrings(value))
  }
}

function toStrings(value: string | number | readonly string[]): string[] {
  return Array.isArray(value) ? value.map(String) : [String(value)]
}

/** The first entry of a comma-separated (or repeated) proxy header, trimmed. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  const comma = v.indexOf(',')
  return (comma < 0 ? v : v.slice(0, comma)).trim() || undefined
}

// hot path: a server sees the same Host value on almost every request; parse it once.
let lastHost = ''
let lastName: string | undefined
let lastPort: number | undefined

/** `server.address` / `server.port` from a Host value: `name`, `name:port`, `[v6]:port`. */
function setServerAddress(span: Span, host: string): void {
  if (host !== lastHost) parseHost(host)
  if (lastName) span.setAttribute(ATTR_SERVER_ADDRESS, lastName)
  if (lastPort !== undefined) span.setAttribute(ATTR_SERVER_PORT, lastPort)
}

function parseHost(host: string): void {
  let name = host
  let port: string | undefined
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    if (close > 0) {
      name = host.slice(1, close)
      if (host[close + 1] === ':') port = host.slice(close + 2)
    }
  } else {
    const colon = host.lastIndexOf(':')
    if (colon >= 0 && host.indexOf(':') === colon) {
      name = host.slice(0, colon)
      port = host.slice(colon + 1)
    }
  }
  const n = port ? Number(port) : Number.NaN
  lastHost = host
  lastName = name || undefined
  lastPort = Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined
}

/** `network.protocol.version`: `1.1`, `1.0`, `2` (semconv writes HTTP/2 as `2`). */
function protocolVersion(httpVersion: string): string {
  return httpVersion === '2.0' ? '2' : httpVersion === '3.0' ? '3' : httpVersion
}

/** Paths or a predicate that mark requests to leave untraced (health checks, metrics). */
export type IgnorePaths = ReadonlyArray<string | RegExp>

/**
 * True when the path of `url` (its query removed) equals one of the strings or matches one of the
 * patterns. Adapters test this before `startServerSpan`, so an ignored request costs nothing more.
 */
export function isIgnoredPath(url: string | undefined, paths: IgnorePaths): boolean {
  if (!url || paths.length === 0) return false
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  for (const p of paths) {
    if (typeof p === 'string' ? p === path : p.test(path)) return true
  }
  return false
}
