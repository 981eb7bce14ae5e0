/**
 * OpenTelemetry semantic conventions (stable names) and the rules built on them: span names,
 * status mapping and redaction. Adapters call this module; they never spell a name themselves.
 */
import { type SpanStatus, SpanStatusCode } from './span.js'

// HTTP (semconv http-spans, stable)
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method'
export const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original'
export const ATTR_HTTP_ROUTE = 'http.route'
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code'
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count'
export const ATTR_URL_FULL = 'url.full'
export const ATTR_URL_PATH = 'url.path'
export const ATTR_URL_QUERY = 'url.query'
export const ATTR_URL_SCHEME = 'url.scheme'
export const ATTR_SERVER_ADDRESS = 'server.address'
export const ATTR_SERVER_PORT = 'server.port'
export const ATTR_CLIENT_ADDRESS = 'client.address'
export const ATTR_CLIENT_PORT = 'client.port'
export const ATTR_NETWORK_PEER_ADDRESS = 'network.peer.address'
export const ATTR_NETWORK_PEER_PORT = 'network.peer.port'
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original'
export const ATTR_NETWORK_PROTOCOL_VERSION = 'network.protocol.version'
export const ATTR_ERROR_TYPE = 'error.type'
// Exceptions
export const ATTR_EXCEPTION_TYPE = 'exception.type'
export const ATTR_EXCEPTION_MESSAGE = 'exception.message'
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace'
// Database (semconv database-spans, stable)
export const ATTR_DB_SYSTEM_NAME = 'db.system.name'
export const ATTR_DB_NAMESPACE = 'db.namespace'
export const ATTR_DB_OPERATION_NAME = 'db.operation.name'
export const ATTR_DB_COLLECTION_NAME = 'db.collection.name'
export const ATTR_DB_QUERY_TEXT = 'db.query.text'
export const ATTR_DB_QUERY_SUMMARY = 'db.query.summary'
export const ATTR_DB_RESPONSE_STATUS_CODE = 'db.response.status_code'
export const ATTR_DB_RESPONSE_RETURNED_ROWS = 'db.response.returned_rows'
export const ATTR_DB_CLIENT_CONNECTION_POOL_NAME = 'db.client.connection.pool.name'
export const DB_SYSTEM_POSTGRESQL = 'postgresql'
// Database, beyond stable semconv: pool state when a query asked for a connection
/** Milliseconds a query waited for a pooled connection. */
export const ATTR_DB_CLIENT_CONNECTION_POOL_WAIT_MS = 'db.client.connection.pool.wait_ms'
/** Connections of the pool in use when the query asked for one. */
export const ATTR_DB_CLIENT_CONNECTION_POOL_IN_USE = 'db.client.connection.pool.in_use'
/** Idle connections of the pool when the query asked for one. */
export const ATTR_DB_CLIENT_CONNECTION_POOL_IDLE = 'db.client.connection.pool.idle'
/** Requests waiting for a connection (this one included) when the query asked for one. */
export const ATTR_DB_CLIENT_CONNECTION_POOL_PENDING = 'db.client.connection.pool.pending_requests'
/** The pool's maximum size. */
export const ATTR_DB_CLIENT_CONNECTION_POOL_MAX = 'db.client.connection.pool.max'
/** Prefix of `db.query.parameter.<index>` (opt-in; semconv postgresql §Spans). */
export const ATTR_DB_QUERY_PARAMETER_PREFIX = 'db.query.parameter.'
// GraphQL (semconv graphql-spans)
export const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name'
export const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type'
export const ATTR_GRAPHQL_DOCUMENT = 'graphql.document'
// GraphQL resolver spans (names follow OpenTelemetry instrumentation-graphql where it has one)
export const ATTR_GRAPHQL_FIELD_NAME = 'graphql.field.name'
export const ATTR_GRAPHQL_FIELD_PATH = 'graphql.field.path'
export const ATTR_GRAPHQL_FIELD_TYPE = 'graphql.field.type'
export const ATTR_GRAPHQL_PARENT_TYPE = 'graphql.parent.type'
// Merged resolver spans: one span for a field path across list items (`users.*.posts`)
export const ATTR_GRAPHQL_RESOLVER_COUNT = 'graphql.resolver.count'
export const ATTR_GRAPHQL_RESOLVER_DURATION_TOTAL = 'graphql.resolver.duration.total_ms'
export const ATTR_GRAPHQL_RESOLVER_DURATION_MAX = 'graphql.resolver.duration.max_ms'
export const ATTR_GRAPHQL_RESOLVER_DURATION_P50 = 'graphql.resolver.duration.p50_ms'
export const ATTR_GRAPHQL_RESOLVER_ERROR_COUNT = 'graphql.resolver.error_count'
// GraphQL operations
export const ATTR_GRAPHQL_ERROR_COUNT = 'graphql.error.count'
/** Event attribute on exception events: the response path of the error (`users.3.posts`). */
export const ATTR_GRAPHQL_ERROR_PATH = 'graphql.error.path'
/** Span names of the two operation phases before execution. */
export const SPAN_GRAPHQL_PARSE = 'graphql.parse'
export const SPAN_GRAPHQL_VALIDATE = 'graphql.validate'
// NestJS
/** The controller (or resolver, gateway) class that handled the request: `CatsController`. */
export const ATTR_NESTJS_CONTROLLER = 'nestjs.controller'
/** The handler method: `findOne`. */
export const ATTR_NESTJS_HANDLER = 'nestjs.handler'
/** What an INTERNAL pipeline span times: one of the `NESTJS_TYPE_*` values below. */
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

/** Methods semconv knows (http-spans §Common attributes); anything else becomes `_OTHER`. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY'])

/** `http.request.method` and, for unknown methods, `http.request.method_original`. */
export function normalizeMethod(method: string | undefined): { method: string; original?: string } {
  const m = method ?? 'GET'
  if (KNOWN_METHODS.has(m)) return { method: m }
  const upper = m.toUpperCase()
  if (KNOWN_METHODS.has(upper)) return { method: upper, original: m }
  return { method: '_OTHER', original: m }
}

/**
 * HTTP span name (semconv http-spans §Name): `{method} {route}`, `{method}` without a route,
 * `HTTP` for unknown methods. Never the raw URL: it is unbounded and may hold ids or secrets.
 */
export function httpSpanName(method: string, route?: string): string {
  const m = method === '_OTHER' ? 'HTTP' : method
  return route ? `${m} ${route}` : m
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET })
const ERROR: SpanStatus = Object.freeze({ code: SpanStatusCode.ERROR })

/** Server spans: 5xx is an error, 4xx is the client's fault and leaves status unset. */
export function httpServerStatus(statusCode: number | undefined): SpanStatus {
  return statusCode === undefined || statusCode >= 500 || statusCode < 100
    ? statusCode === undefined
      ? UNSET
      : ERROR
    : UNSET
}

/** Client spans: any 4xx or 5xx is an error for the caller. */
export function httpClientStatus(statusCode: number | undefined): SpanStatus {
  return statusCode !== undefined && (statusCode >= 400 || statusCode < 100) ? ERROR : UNSET
}

/** `error.type` for a failed HTTP exchange: the status code as text. */
export function httpErrorType(statusCode: number): string {
  return String(statusCode)
}

/** `error.type` for an exception: its `code` (e.g. `ECONNREFUSED`) or class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code) return code
    const name = (error as { name?: unknown }).name
    if (typeof name === 'string' && name) return name
    return (error as object).constructor?.name || '_OTHER'
  }
  return '_OTHER'
}

/**
 * Query parameters whose values are replaced by `REDACTED` in `url.query` and `url.full`:
 * semconv's list (url §Sensitive information) plus common credentials.
 */
const SENSITIVE_QUERY_KEYS = new Set([
  'awsaccesskeyid',
  'signature',
  'sig',
  'x-goog-signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'auth',
  'authorization',
  'session',
  'sessionid',
  'jwt',
  'code',
])

export const REDACTED = 'REDACTED'

/** Redacts sensitive values in a query string (without the leading `?`). */
export function redactQuery(query: string): string {
  if (!query) return query
  let changed = false
  const parts = query.split('&')
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    const eq = part.indexOf('=')
    if (eq < 0) continue
    let key = part.slice(0, eq)
    try {
      key = decodeURIComponent(key)
    } catch {
      // keep the raw key
    }
    if (SENSITIVE_QUERY_KEYS.has(key.toLowerCase())) {
      parts[i] = `${part.slice(0, eq)}=${REDACTED}`
      changed = true
    }
  }
  return changed ? parts.join('&') : query
}

/**
 * `url.full` without secrets: user info becomes `REDACTED:REDACTED@` (semconv url §Sensitive
 * information) and sensitive query values are redacted. Unparseable input is returned without
 * its query, never thrown on.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  const hash = url.indexOf('#', Math.max(q, 0))
  let base = q < 0 ? (hash < 0 ? url : url.slice(0, hash)) : url.slice(0, q)
  const query = q < 0 ? '' : url.slice(q + 1, hash < 0 ? undefined : hash)
  const scheme = base.indexOf('://')
  if (scheme > 0) {
    const slash = base.indexOf('/', scheme + 3)
    const authorityEnd = slash < 0 ? base.length : slash
    const at = base.lastIndexOf('@', authorityEnd)
    if (at > scheme) base = `${base.slice(0, scheme + 3)}${REDACTED}:${REDACTED}@${base.slice(at + 1)}`
  }
  return query ? `${base}?${redactQuery(query)}` : base
}

/** Headers never recorded unless the user names them explicitly in an allow-list. */
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-csrf-token',
  'x-xsrf-token',
])

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADERS.has(name.toLowerCase())
}

/** `http.request.header.<name>` / `http.response.header.<name>` (values as a string array). */
export function headerAttributeName(direction: 'request' | 'response', name: string): string {
  return `http.${direction}.header.${name.toLowerCase()}`
}

/** Database span name (semconv database-spans §Name): summary, else operation, else the system. */
export function dbSpanName(summary: string | undefined, operation: string | undefined, system: string): string {
  return summary || operation || system
}

/** GraphQL operation span name: `query GetUser`, `mutation`, … (semconv graphql-spans). */
export function graphqlSpanName(operationType: string | undefined, operationName: string | undefined): string {
  const type = operationType || 'query'
  return operationName ? `${type} ${operationName}` : type
}

/** Name of the attribute for an allow-listed GraphQL variable (`graphql.variables.id`). */
export function graphqlVariableAttribute(name: string): string {
  return `graphql.variables.${name}`
}

/** Resolver span name: `Query.user`, `User.orders` (semconv has none; OTel uses the field path). */
export function graphqlResolverSpanName(parentType: string, fieldName: string): string {
  return `${parentType}.${fieldName}`
}
