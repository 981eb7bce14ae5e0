/**
 * Outgoing HTTP: CLIENT spans and header injection for global fetch (undici's diagnostics
 * channels) and node:http/https (Node's http.client.* channels). Subscribes, never patches.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { recordError } from '../api.js'
import { activeContext, type Context, isTracingSuppressed } from '../context.js'
import type { TextMapSetter } from '../propagation/propagator.js'
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  httpClientStatus,
  httpErrorType,
  httpSpanName,
  normalizeMethod,
  redactUrl,
} from '../semconv.js'
import { type Span, SpanKind } from '../span.js'
import { contextWithSpan, spanFrom } from '../trace-context.js'
import { getTracer, provider } from '../tracer.js'
import { VERSION } from '../version.js'

export interface OutgoingHttpOptions {
  /** Global `fetch` (and any undici client): spans and headers. Default true. */
  fetch?: boolean | undefined
  /** `node:http` / `node:https` requests: spans and headers. Default true. */
  http?: boolean | undefined
  /** Also start a (root) CLIENT span for requests made with no active span. Default false. */
  rootSpans?: boolean | undefined
}

const tracer = getTracer('@threadline/core', VERSION)

// Undici's request object (the parts we use); `headers` is an array in undici 6+ and a string before.
interface UndiciRequest {
  method?: string
  origin?: string | URL
  path?: string
  headers?: string[] | string
  addHeader?(name: string, value: string): unknown
}
interface UndiciResponse {
  statusCode?: number
}
// Node's ClientRequest (the parts we use).
interface NodeClientRequest {
  method?: string
  host?: string
  path?: string
  protocol?: string
  getHeader(name: string): unknown
  setHeader(name: string, value: string): unknown
  headersSent?: boolean
  once?(event: string, listener: () => void): unknown
}

interface Outgoing {
  span: Span
  /** A header value we injected that names this span: lets a second undici copy recognise the request. */
  marker: string | undefined
}

/** Requests in flight (weak, so a request whose response is never read cannot leak memory). */
const inflight = new WeakMap<object, Outgoing>()
/** Header values we injected into requests still in flight (bounded). */
const injectedMarkers = new Set<string>()
const MAX_MARKERS = 10_000

/** Subscribes to the outgoing-request channels; returns a function that unsubscribes. */
export function instrumentOutgoingHttp(options: OutgoingHttpOptions = {}): () => void {
  const rootSpans = options.rootSpans === true
  const subscriptions: Array<[string, (message: unknown) => void]> = []
  if (options.fetch !== false) {
    subscriptions.push(
      ['undici:request:create', (m) => onUndiciCreate(m as { request: UndiciRequest }, rootSpans)],
      ['undici:request:headers', (m) => onUndiciHeaders(m as { request: object; response: UndiciResponse })],
      ['undici:request:trailers', (m) => finish((m as { request: object }).request)],
      ['undici:request:error', (m) => fail(m as { request: object; error: unknown })],
    )
  }
  if (options.http !== false) {
    subscriptions.push(
      ['http.client.request.created', (m) => onHttpCreated(m as { request: NodeClientRequest }, rootSpans)],
      ['http.client.response.finish', (m) => onHttpResponse(m as { request: object; response: UndiciResponse })],
      ['http.client.request.error', (m) => fail(m as { request: object; error: unknown })],
    )
  }
  for (const [name, fn] of subscriptions) diagnosticsChannel.subscribe(name, fn)
  return () => {
    for (const [name, fn] of subscriptions.splice(0)) diagnosticsChannel.unsubscribe(name, fn)
  }
}

/**
 * Starts the CLIENT span for a request made in the active context and injects the configured
 * propagators' headers. The SDK's own exports run in `suppressTracing` and get neither.
 */
function begin(
  request: object,
  method: string | undefined,
  rootSpans: boolean,
  setter: TextMapSetter<unknown>,
  describe: (span: Span) => void,
  keepMarker: boolean,
): void {
  const ctx = activeContext()
  if (isTracingSuppressed(ctx)) return
  let injectCtx: Context = ctx
  let span: Span | undefined
  if (spanFrom(ctx) || rootSpans) {
    const m = normalizeMethod(method)
    span = tracer.startSpan(httpSpanName(m.method), { kind: SpanKind.CLIENT }, ctx)
    // hot path: attributes only for recording spans; unsampled requests still get their headers.
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_REQUEST_METHOD, m.method)
      if (m.original !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, m.original)
      describe(span)
    }
    injectCtx = contextWithSpan(ctx, span)
  }
  let marker: string | undefined
  // a value with the span id in it is unique to this request (baggage, say, is not)
  const spanId = keepMarker && span?.isRecording() ? span.spanContext().spanId : undefined
  const recording: TextMapSetter<unknown> =
    spanId === undefined
      ? setter
      : {
          set(carrier, key, value) {
            if (marker === undefined && value.includes(spanId)) marker = value
            setter.set(carrier, key, value)
          },
        }
  try {
    provider.propagator.inject(injectCtx, request, recording)
  } catch {
    // a broken propagator must not break the user's request
  }
  // an unsampled span records nothing, so there is nothing to end; its headers are already out
  if (!span?.isRecording()) return
  if (marker !== undefined) {
    if (injectedMarkers.size >= MAX_MARKERS) injectedMarkers.clear()
    injectedMarkers.add(marker)
  }
  inflight.set(request, { span, marker })
}

function end(request: object): Outgoing | undefined {
  const out = inflight.get(request)
  if (!out) return undefined
  inflight.delete(request)
  if (out.marker !== undefined) injectedMarkers.delete(out.marker)
  return out
}

function setStatus(span: Span, statusCode: number | undefined): void {
  if (!span.isRecording() || typeof statusCode !== 'number') return
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode)
  const status = httpClientStatus(statusCode)
  if (status.code !== 0) {
    span.setAttribute(ATTR_ERROR_TYPE, httpErrorType(statusCode))
    span.setStatus(status)
  }
}

function finish(request: object): void {
  end(request)?.span.end()
}

function fail({ request, error }: { request: object; error: unknown }): void {
  const out = end(request)
  if (!out) return
  recordError(out.span, error)
  out.span.end()
}

// ---- undici (global fetch) ----

function undiciHeaderNames(request: UndiciRequest): string[] {
  const h = request.headers
  if (Array.isArray(h)) {
    const names: string[] = []
    for (let i = 0; i < h.length; i += 2) names.push(String(h[i]).toLowerCase())
    return names
  }
  if (typeof h === 'string') {
    return h
      .split('\r\n')
      .map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase())
      .filter(Boolean)
  }
  return []
}

/** True when the request carries a header value we injected into a request still in flight. */
function carriesOurMarker(request: UndiciRequest): boolean {
  const h = request.headers
  if (Array.isArray(h)) {
    for (let i = 1; i < h.length; i += 2) if (injectedMarkers.has(String(h[i]))) return true
    return false
  }
  if (typeof h === 'string') {
    for (const line of h.split('\r\n')) if (injectedMarkers.has(line.slice(line.indexOf(':') + 1).trim())) return true
  }
  return false
}

function onUndiciCreate({ request }: { request: UndiciRequest }, rootSpans: boolean): void {
  if (!request || typeof request.addHeader !== 'function' || inflight.has(request)) return
  // Two undici copies (Node's bundled one and an installed one) can both publish for one
  // request: if it already carries a header we injected for a request in flight, it is ours.
  if (injectedMarkers.size > 0 && carriesOurMarker(request)) return
  const present = undiciHeaderNames(request)
  const setter: TextMapSetter<unknown> = {
    set(carrier, key, value) {
      // a header the caller set explicitly wins over ours
      if (!present.includes(key)) (carrier as UndiciRequest).addHeader?.(key, value)
    },
  }
  begin(
    request,
    request.method,
    rootSpans,
    setter,
    (span) => {
      const origin = String(request.origin ?? '')
      span.setAttribute(ATTR_URL_FULL, redactUrl(origin + (request.path ?? '')))
      try {
        const url = new URL(origin)
        span.setAttribute(ATTR_SERVER_ADDRESS, url.hostname.replace(/^\[|\]$/g, ''))
        span.setAttribute(ATTR_SERVER_PORT, url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80)
      } catch {
        // an origin we cannot parse: no address attributes
      }
    },
    true,
  )
}

function onUndiciHeaders({ request, response }: { request: object; response: UndiciResponse }): void {
  const out = inflight.get(request)
  if (out) setStatus(out.span, response?.statusCode)
}

// ---- node:http / node:https ----

const httpSetter: TextMapSetter<unknown> = {
  set(carrier, key, value) {
    const req = carrier as NodeClientRequest
    if (req.headersSent || req.getHeader(key) !== undefined) return
    req.setHeader(key, value)
  },
}

function onHttpCreated({ request }: { request: NodeClientRequest }, rootSpans: boolean): void {
  if (!request || typeof request.setHeader !== 'function' || inflight.has(request)) return
  begin(
    request,
    request.method,
    rootSpans,
    httpSetter,
    (span) => {
      const protocol = request.protocol ?? 'http:'
      const hostHeader = request.getHeader('host')
      const authority = typeof hostHeader === 'string' && hostHeader ? hostHeader : (request.host ?? 'localhost')
      span.setAttribute(ATTR_URL_FULL, redactUrl(`${protocol}//${authority}${request.path ?? '/'}`))
      if (request.host) span.setAttribute(ATTR_SERVER_ADDRESS, request.host.replace(/^\[|\]$/g, ''))
      const portMatch = /:(\d+)$/.exec(authority)
      span.setAttribute(ATTR_SERVER_PORT, portMatch ? Number(portMatch[1]) : protocol === 'https:' ? 443 : 80)
    },
    false,
  )
  // A request destroyed without an error or a response publishes nothing more: end on close.
  if (inflight.has(request)) request.once?.('close', () => setImmediate(finish, request))
}

function onHttpResponse({ request, response }: { request: object; response: UndiciResponse }): void {
  const out = inflight.get(request)
  if (!out) return
  setStatus(out.span, response?.statusCode)
  finish(request)
}
