import { performance } from 'node:perf_hooks'
import {
  activeContext,
  type Context,
  ensureStarted,
  getTracer,
  recordError,
  type Span,
  SpanKind,
  semconv,
  spanFrom,
  sqlInfo,
  withContext,
} from '@threadline/core'
import { VERSION } from './version.js'

/*
 * node-postgres 8 publishes no diagnostics_channel events yet. brianc/node-postgres#3650 proposes
 * the TracingChannels `pg:query`, `pg:connection` and `pg:pool:connect`; until they ship we wrap
 * Client#query, Client#connect, Pool#query and Pool#connect once, and hand our span logic the
 * same context objects those channels will carry (PgQueryContext, PgConnectionContext,
 * PgPoolContext below). When a pg release publishes them, this adapter will subscribe instead
 * of wrapping and keep the span logic unchanged.
 */

/** The `pg:query` context: what the query is and which connection runs it. */
export interface PgQueryContext {
  query: { text: string | undefined; name: string | undefined; values: readonly unknown[] | undefined }
  client: PgConnectionInfo
  /** The result once the query succeeded (a multi-statement query gives an array). */
  result?: unknown
  /** The error once it failed. */
  error?: unknown
}

/** The `pg:connection` context. */
export interface PgConnectionContext {
  connection: PgConnectionInfo
}

/** The `pg:pool:connect` context: the pool as the request for a connection found it. */
export interface PgPoolContext {
  pool: { totalCount: number; idleCount: number; waitingCount: number; maxSize: number | undefined }
}

export interface PgConnectionInfo {
  database: string | undefined
  host: string | undefined
  port: number | undefined
  user: string | undefined
  processID: number | undefined
}

export interface InstrumentPgOptions {
  /** Only trace queries issued while a span is active (default true: no root spans for background work). */
  requireParentSpan?: boolean
  /** Called when a query span starts, to add attributes. Errors it throws are ignored. */
  queryHook?: (span: Span, query: PgQueryContext) => void
  /** `db.query.text`: `sanitized` (literals → `?`, the default), `raw` (as sent) or `off`. */
  queryText?: 'sanitized' | 'raw' | 'off'
  /** Record parameter values as `db.query.parameter.<index>` (default false: they may be personal data). */
  recordParameters?: boolean
  /** A span per new connection (`connect`); off by default: pool wait time is on each query span. */
  connectSpans?: boolean
}

/** The parts of the pg module this adapter touches: `import pg from 'pg'` or `import * as pg from 'pg'`. */
export interface PgModule {
  Client: abstract new (...args: never[]) => unknown
  Pool?: abstract new (...args: never[]) => unknown
}

type Callback = (...args: unknown[]) => unknown
type Method = (this: unknown, ...args: unknown[]) => unknown

const CHECKOUT = Symbol('threadline.pg.checkout')
const POOL_OF = Symbol('threadline.pg.pool')
const WRAPPED = Symbol.for('threadline.pg.wrapped')

interface Checkout {
  waitMs: number
  pool: PgPoolContext['pool']
}

interface PgClient {
  database?: string
  host?: string
  port?: number
  user?: string
  processID?: number | null
  [CHECKOUT]?: Checkout | undefined
  [POOL_OF]?: PgPool
}

interface PgPool {
  totalCount: number
  idleCount: number
  waitingCount: number
  options?: { max?: number }
}

interface PendingPoolQuery {
  /** `performance.now()` when pool.query was called: the query span starts there, wait included. */
  started: number
  text: unknown
  /** The caller's context. */
  ctx: Context
  /**
   * Whether the callback pg-pool gives Client#query must run in the caller's context: only when it
   * leads to a user callback or a non-native promise (a native promise resumes its awaiter in the
   * awaiter's own context).
   */
  restoreContext: boolean
}

/*
 * pg-pool calls these synchronously one inside the other: Pool#query -> Pool#connect, and the
 * connect callback -> Client#query. Each wrapper leaves the pending pool query in a slot for the
 * next one, which takes it at once. hot path: a slot instead of a context value saves a context
 * copy and two AsyncLocalStorage frames per pool.query.
 */
let poolQueryConnecting: PendingPoolQuery | undefined
let poolQueryDispatching: PendingPoolQuery | undefined

interface Submittable {
  submit: unknown
  text?: unknown
  name?: unknown
  values?: unknown
  cursor?: { text?: unknown; values?: unknown }
  callback?: unknown
  handleDataRow?: Method
  handleError?: Method
  handleReadyForQuery?: Method
  on?: unknown
}

interface Settings {
  requireParentSpan: boolean
  queryHook: InstrumentPgOptions['queryHook']
  queryText: 'sanitized' | 'raw' | 'off'
  recordParameters: boolean
  connectSpans: boolean
}

const tracer = getTracer('@threadline/pg', VERSION)
/**
 * Read once: `performance.timeOrigin` is a getter, and pool.query needs an epoch time per call.
 * (`performance` comes from node:perf_hooks: the global one is an accessor, about 20 ns a read.)
 */
const TIME_ORIGIN = performance.timeOrigin
let settings: Settings = toSettings({})
let sdkChecked = false

function toSettings(options: InstrumentPgOptions): Settings {
  return {
    requireParentSpan: options.requireParentSpan ?? true,
    queryHook: options.queryHook,
    queryText: options.queryText ?? 'sanitized',
    recordParameters: options.recordParameters ?? false,
    connectSpans: options.connectSpans ?? false,
  }
}

/**
 * Traces every query of this `pg` module: `pg.Client`, `pg.Pool` and the libraries built on
 * them. Call it once, before or after pools are created; calling it again only changes the options.
 *
 * ```ts
 * import pg from 'pg'
 * import { instrumentPg } from '@threadline/pg'
 * instrumentPg(pg)
 * ```
 */
export function instrumentPg(pg: PgModule, options: InstrumentPgOptions = {}): void {
  const clientProto = (pg as { Client?: { prototype?: Record<string, unknown> } } | undefined)?.Client?.prototype
  if (!clientProto || typeof clientProto.query !== 'function') {
    const received =
      pg === null || typeof pg !== 'object' ? String(pg) : `an object with keys ${Object.keys(pg).join(', ')}`
    throw Object.assign(
      new TypeError(
        `instrumentPg(pg) expects the node-postgres module (with pg.Client), received ${received}; pass \`import pg from 'pg'\``,
      ),
      { code: 'TL_ERR_PG_MODULE' },
    )
  }
  settings = toSettings(options)
  wrap(clientProto, 'query', wrapClientQuery)
  wrap(clientProto, 'connect', wrapClientConnect)
  const poolProto = (pg.Pool as { prototype?: object } | undefined)?.prototype
  if (poolProto) {
    wrap(ownerOf(poolProto, 'query'), 'query', wrapPoolQuery)
    wrap(ownerOf(poolProto, 'connect'), 'connect', wrapPoolConnect)
  }
}

/** The prototype that defines `name` (pg.Pool is a subclass of pg-pool's Pool). */
function ownerOf(proto: object, name: string): Record<string, unknown> | undefined {
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.hasOwn(p, name)) return p as Record<string, unknown>
  }
  return undefined
}

/** Replaces a method once; a second instrumentPg() call (or a second copy of this package) leaves it. */
function wrap(target: Record<string, unknown> | undefined, name: string, wrapper: (original: Method) => Method): void {
  const original = target?.[name] as (Method & { [WRAPPED]?: Method }) | undefined
  if (!target || typeof original !== 'function' || original[WRAPPED]) return
  const wrapped = wrapper(original) as Method & { [WRAPPED]?: Method }
  Object.defineProperty(wrapped, WRAPPED, { value: original })
  Object.defineProperty(wrapped, 'name', { value: name })
  Object.defineProperty(target, name, { value: wrapped, writable: true, configurable: true, enumerable: false })
}

/** True when a span should be made in `ctx` (the requireParentSpan rule). */
function wanted(ctx: Context): boolean {
  return !settings.requireParentSpan || spanFrom(ctx) !== undefined
}

function startSdk(): void {
  if (sdkChecked) return
  sdkChecked = true
  ensureStarted()
}

const INFO = Symbol('threadline.pg.info')
const POOL_NAME = Symbol('threadline.pg.pool-name')

/** What the query contexts say of a client: fixed once it is connected, so kept on it. */
function connectionInfo(client: PgClient & { [INFO]?: PgConnectionInfo }): PgConnectionInfo {
  const cached = client[INFO]
  if (cached) return cached
  const info: PgConnectionInfo = {
    database: client.database,
    host: client.host,
    port: client.port,
    user: client.user,
    processID: client.processID ?? undefined,
  }
  if (info.processID !== undefined) client[INFO] = info
  return info
}

/** The pool name of a connected client, built once per connection. */
function poolNameOf(client: PgClient & { [POOL_NAME]?: string }, info: PgConnectionInfo): string {
  let name = client[POOL_NAME]
  if (name === undefined) {
    name = poolName(info)
    if (info.processID !== undefined) client[POOL_NAME] = name
  }
  return name
}

function poolSnapshot(pool: PgPool): PgPoolContext['pool'] {
  return {
    totalCount: pool.totalCount,
    idleCount: pool.idleCount,
    waitingCount: pool.waitingCount,
    maxSize: pool.options?.max,
  }
}

function wrapClientQuery(original: Method): Method {
  return function query(this: unknown, config: unknown, values?: unknown, callback?: unknown) {
    // the pool.query this query runs for, if any; taken at once so no other query sees it
    const pending = poolQueryDispatching
    poolQueryDispatching = undefined
    const ctx = pending ? pending.ctx : activeContext()
    // hot path: a query outside any span (requireParentSpan) costs one context read
    if (config === null || config === undefined || !wanted(ctx)) return original.call(this, config, values, callback)
    startSdk()
    const client = this as PgClient
    const sub = typeof (config as Submittable).submit === 'function' ? (config as Submittable) : undefined
    const conf = typeof config === 'string' ? undefined : (config as Submittable)
    const text = typeof config === 'string' ? config : textOf(conf)
    const info = typeof text === 'string' ? sqlInfo(text) : undefined
    const span = tracer.startSpan(
      semconv.dbSpanName(info?.summary, info?.operation, semconv.DB_SYSTEM_POSTGRESQL),
      { kind: SpanKind.CLIENT, startTime: pending ? TIME_ORIGIN + pending.started : undefined },
      ctx,
    )
    if (!span.isRecording()) {
      // unsampled: no span work, but callbacks still run in the caller's context
      if (typeof values === 'function') return original.call(this, config, bindTo(ctx, values as Callback))
      if (typeof callback === 'function') return original.call(this, config, values, bindTo(ctx, callback as Callback))
      return original.call(this, config, values, callback)
    }
    const connection = connectionInfo(client)
    const queryValues = Array.isArray(values)
      ? values
      : Array.isArray(conf?.values)
        ? (conf.values as unknown[])
        : undefined
    setStartAttributes(span, info, connection, text, queryValues, client)
    // the hook's view of the query: only built when there is a hook
    const hook = settings.queryHook
    let q: PgQueryContext | undefined
    if (hook) {
      q = {
        query: { text, name: typeof conf?.name === 'string' ? conf.name : undefined, values: queryValues },
        client: connection,
      }
      try {
        hook(span, q)
      } catch {
        // a hook must not break the user's query
      }
    }
    // pg-pool's own callback (pending.restoreContext false) only resolves a native promise
    const restore = pending === undefined || pending.restoreContext
    try {
      if (sub) return submit(original, this, sub, values, callback, ctx, span, q)
      if (typeof values === 'function')
        return original.call(this, config, afterQuery(span, q, ctx, values as Callback, restore))
      if (typeof callback === 'function')
        return original.call(this, config, values, afterQuery(span, q, ctx, callback as Callback, restore))
      if (conf && typeof conf.callback === 'function') {
        const copy = Object.assign(Object.create(Object.getPrototypeOf(conf)), conf) as Submittable
        copy.callback = afterQuery(span, q, ctx, conf.callback as Callback, true)
        return original.call(this, copy, values)
      }
      const result = original.call(this, config, values) as PromiseLike<unknown> | undefined
      if (result && typeof result.then === 'function') {
        result.then(
          (res) => finish(span, q, undefined, res),
          (error) => finish(span, q, error, undefined),
        )
      } else finish(span, q, undefined, undefined)
      return result
    } catch (error) {
      finish(span, q, error, undefined)
      throw error
    }
  }
}

function textOf(conf: Submittable | undefined): string | undefined {
  if (!conf) return undefined
  if (typeof conf.text === 'string') return conf.text
  // pg-query-stream keeps its statement on its cursor
  const cursorText = conf.cursor?.text
  return typeof cursorText === 'string' ? cursorText : undefined
}

/** A query callback that ends the span, then runs the callback (in the caller's context if `restore`). */
function afterQuery(
  span: Span,
  q: PgQueryContext | undefined,
  ctx: Context,
  callback: Callback,
  restore: boolean,
): Callback {
  return function (this: unknown, error: unknown, result: unknown) {
    finish(span, q, error, result)
    if (!restore || activeContext() === ctx) return callback.call(this, error, result)
    return withContext(ctx, () => callback.call(this, error, result))
  }
}

function bindTo(ctx: Context, callback: Callback): Callback {
  return function (this: unknown, ...args: unknown[]) {
    // hot path: already in `ctx` (pg-pool serving its queue in the caller's tick) costs no context switch
    if (activeContext() === ctx) return callback.apply(this, args)
    return withContext(ctx, () => callback.apply(this, args))
  }
}

/**
 * Submittables (pg.Query objects, pg-cursor, pg-query-stream): the client drives them through
 * handleDataRow / handleError / handleReadyForQuery, so the span ends on the last of those, which
 * for a cursor or stream is when it is read to the end, closed or fails.
 */
function submit(
  original: Method,
  client: unknown,
  sub: Submittable,
  values: unknown,
  callback: unknown,
  ctx: Context,
  span: Span,
  q: PgQueryContext | undefined,
): unknown {
  let rows = 0
  const { handleDataRow, handleError, handleReadyForQuery } = sub
  if (typeof handleDataRow === 'function') {
    sub.handleDataRow = function (this: unknown, ...args: unknown[]) {
      rows++
      return handleDataRow.apply(this, args)
    }
  }
  if (typeof handleError === 'function') {
    sub.handleError = function (this: unknown, ...args: unknown[]) {
      finish(span, q, args[0], undefined)
      return handleError.apply(this, args)
    }
  }
  if (typeof handleReadyForQuery === 'function') {
    sub.handleReadyForQuery = function (this: unknown, ...args: unknown[]) {
      finish(span, q, undefined, undefined, rows)
      return handleReadyForQuery.apply(this, args)
    }
  }
  if (typeof sub.callback === 'function') sub.callback = bindTo(ctx, sub.callback as Callback)
  if (typeof values === 'function') values = bindTo(ctx, values as Callback)
  if (typeof callback === 'function') callback = bindTo(ctx, callback as Callback)
  return original.call(client, sub, values, callback)
}

function setStartAttributes(
  span: Span,
  info: ReturnType<typeof sqlInfo> | undefined,
  connection: PgConnectionInfo,
  text: string | undefined,
  values: readonly unknown[] | undefined,
  client: PgClient,
) {
  span.setAttribute(semconv.ATTR_DB_SYSTEM_NAME, semconv.DB_SYSTEM_POSTGRESQL)
  span.setAttribute(semconv.ATTR_DB_NAMESPACE, connection.database)
  span.setAttribute(semconv.ATTR_SERVER_ADDRESS, connection.host)
  span.setAttribute(semconv.ATTR_SERVER_PORT, connection.port)
  if (info) {
    span.setAttribute(semconv.ATTR_DB_QUERY_SUMMARY, info.summary)
    span.setAttribute(semconv.ATTR_DB_OPERATION_NAME, info.operation)
    span.setAttribute(semconv.ATTR_DB_COLLECTION_NAME, info.collection)
    if (settings.queryText === 'sanitized') span.setAttribute(semconv.ATTR_DB_QUERY_TEXT, info.text)
    else if (settings.queryText === 'raw') span.setAttribute(semconv.ATTR_DB_QUERY_TEXT, text)
  }
  if (settings.recordParameters && values) {
    for (let k = 0; k < values.length; k++) {
      span.setAttribute(`${semconv.ATTR_DB_QUERY_PARAMETER_PREFIX}${k}`, parameterText(values[k]))
    }
  }
  if (client[POOL_OF]) {
    span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_NAME, poolNameOf(client, connection))
    const checkout = client[CHECKOUT]
    if (checkout) {
      // the first query after a checkout carries how long it waited and what the pool looked like
      client[CHECKOUT] = undefined
      span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_WAIT_MS, checkout.waitMs)
      span.setAttribute(
        semconv.ATTR_DB_CLIENT_CONNECTION_POOL_IN_USE,
        checkout.pool.totalCount - checkout.pool.idleCount,
      )
      span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_IDLE, checkout.pool.idleCount)
      span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_PENDING, checkout.pool.waitingCount)
      span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_MAX, checkout.pool.maxSize)
    }
  }
}

/** semconv database-metrics: pool names are `{server.address}:{server.port}/{db.namespace}` by default. */
function poolName(c: PgConnectionInfo): string {
  return `${c.host ?? ''}:${c.port ?? ''}/${c.database ?? ''}`
}

function parameterText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value)
    } catch {
      return String(value)
    }
  }
  return String(value)
}

/** Ends a query span once (pg may report both an error and readyForQuery); `q` is the hook's view. */
function finish(span: Span, q: PgQueryContext | undefined, error: unknown, result: unknown, rows?: number): void {
  if (!span.isRecording()) return
  if (error) {
    if (q) q.error = error
    const code = (error as { code?: unknown }).code
    // a PostgreSQL error carries its SQLSTATE (five characters); client errors carry ECONNRESET etc.
    if (typeof code === 'string' && code.length === 5 && (error as { severity?: unknown }).severity !== undefined) {
      span.setAttribute(semconv.ATTR_DB_RESPONSE_STATUS_CODE, code)
    }
    recordError(span, error)
  } else {
    if (q) q.result = result
    const returned = rows ?? returnedRows(result)
    if (returned !== undefined) span.setAttribute(semconv.ATTR_DB_RESPONSE_RETURNED_ROWS, returned)
  }
  span.end()
}

function returnedRows(result: unknown): number | undefined {
  if (Array.isArray(result)) {
    let total = 0
    for (const r of result) total += returnedRows(r) ?? 0
    return total
  }
  const rows = (result as { rows?: unknown } | undefined)?.rows
  return Array.isArray(rows) ? rows.length : undefined
}

function wrapPoolQuery(original: Method): Method {
  return function query(this: unknown, text: unknown, values?: unknown, callback?: unknown) {
    const ctx = activeContext()
    if (typeof text === 'function' || text === null || text === undefined || !wanted(ctx)) {
      return original.call(this, text, values, callback)
    }
    // pg-pool's query calls this.connect() at once (which takes the slot), then client.query()
    // in the connect callback, which runs in the caller's context (see wrapPoolConnect)
    poolQueryConnecting = {
      started: performance.now(),
      text,
      ctx,
      restoreContext:
        typeof values === 'function' ||
        typeof callback === 'function' ||
        (this as { Promise?: unknown }).Promise !== Promise,
    }
    try {
      return original.call(this, text, values, callback)
    } finally {
      poolQueryConnecting = undefined
    }
  }
}

/** pool.query failed before it had a connection (pool timeout, server down): still a span, with the error. */
function checkoutFailed(pool: PgPool, pending: PendingPoolQuery, error: unknown): void {
  const { ctx, text } = pending
  const sql = typeof text === 'string' ? text : textOf(text as Submittable)
  const info = typeof sql === 'string' ? sqlInfo(sql) : undefined
  const span = tracer.startSpan(
    semconv.dbSpanName(info?.summary, info?.operation, semconv.DB_SYSTEM_POSTGRESQL),
    { kind: SpanKind.CLIENT, startTime: TIME_ORIGIN + pending.started },
    ctx,
  )
  if (!span.isRecording()) return
  const options = (pool as { options?: { host?: string; port?: number; database?: string; user?: string } }).options
  const connection: PgConnectionInfo = {
    database: options?.database,
    host: options?.host,
    port: options?.port,
    user: options?.user,
    processID: undefined,
  }
  setStartAttributes(span, info, connection, sql, undefined, {})
  span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_NAME, poolName(connection))
  span.setAttribute(semconv.ATTR_DB_CLIENT_CONNECTION_POOL_WAIT_MS, performance.now() - pending.started)
  let q: PgQueryContext | undefined
  if (settings.queryHook) {
    q = { query: { text: sql, name: undefined, values: undefined }, client: connection }
    try {
      settings.queryHook(span, q)
    } catch {
      // a hook must not break the user's query
    }
  }
  finish(span, q, error, undefined)
}

function wrapPoolConnect(original: Method): Method {
  return function connect(this: unknown, callback?: unknown) {
    // left by pool.query when it is the caller; taken at once so a later connect does not see it
    const pending = poolQueryConnecting
    poolQueryConnecting = undefined
    const ctx = pending ? pending.ctx : activeContext()
    const pool = this as PgPool
    if (!wanted(ctx)) {
      // pg-pool runs a queued callback in the context of whichever query released the connection:
      // give the caller its own context back (else its next query joins someone else's trace)
      return typeof callback === 'function'
        ? original.call(this, bindTo(ctx, callback as Callback))
        : original.call(this)
    }
    const started = pending ? pending.started : performance.now()
    let snapshot: PgPoolContext['pool'] | undefined
    const checkedOut = (client: unknown) => {
      if (!client || typeof client !== 'object') return
      snapshot ??= poolSnapshot(pool)
      const c = client as PgClient
      c[POOL_OF] = pool
      c[CHECKOUT] = { waitMs: performance.now() - started, pool: snapshot }
    }
    if (typeof callback === 'function') {
      const userCallback = callback as Callback
      const result = original.call(this, function (this: unknown, error: unknown, client: unknown, release: unknown) {
        if (!error) checkedOut(client)
        else if (pending) checkoutFailed(pool, pending, error)
        // for pool.query, the client.query() its callback makes is the query this span is for
        poolQueryDispatching = error ? undefined : pending
        try {
          // pg-pool hands a queued request its connection from inside the releasing query's
          // callback: run the caller's callback in the caller's context
          if (activeContext() === ctx) return userCallback.call(this, error, client, release)
          return withContext(ctx, () => userCallback.call(this, error, client, release))
        } finally {
          poolQueryDispatching = undefined
        }
      })
      snapshot ??= poolSnapshot(pool)
      return result
    }
    const result = original.call(this) as PromiseLike<unknown>
    snapshot ??= poolSnapshot(pool)
    if (!result || typeof result.then !== 'function') return result
    return result.then((client) => {
      checkedOut(client)
      return client
    })
  }
}

function wrapClientConnect(original: Method): Method {
  return function connect(this: unknown, callback?: unknown) {
    const ctx = activeContext()
    if (!settings.connectSpans || !wanted(ctx)) return original.call(this, callback)
    startSdk()
    const connection: PgConnectionContext = { connection: connectionInfo(this as PgClient) }
    const span = tracer.startSpan('connect', { kind: SpanKind.CLIENT }, ctx)
    if (!span.isRecording()) return original.call(this, callback)
    span.setAttribute(semconv.ATTR_DB_SYSTEM_NAME, semconv.DB_SYSTEM_POSTGRESQL)
    span.setAttribute(semconv.ATTR_DB_OPERATION_NAME, 'connect')
    span.setAttribute(semconv.ATTR_DB_NAMESPACE, connection.connection.database)
    span.setAttribute(semconv.ATTR_SERVER_ADDRESS, connection.connection.host)
    span.setAttribute(semconv.ATTR_SERVER_PORT, connection.connection.port)
    const end = (error: unknown) => {
      if (!span.isRecording()) return
      if (error) recordError(span, error)
      span.end()
    }
    if (typeof callback === 'function') {
      const userCallback = callback as Callback
      return original.call(this, function (this: unknown, error: unknown, ...rest: unknown[]) {
        end(error)
        return withContext(ctx, () => userCallback.call(this, error, ...rest))
      })
    }
    const result = original.call(this) as PromiseLike<unknown>
    if (result && typeof result.then === 'function') result.then(() => end(undefined), end)
    return result
  }
}
