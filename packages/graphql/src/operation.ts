/**
 * The one implementation behind every front door: parse and validate spans, the operation span,
 * resolver spans merged per field path, errors. Front doors (graphql 17 channels,
 * `instrumentSchema`, Yoga, Apollo) only translate their lifecycle into these calls.
 */
import {
  activeContext,
  type Context,
  contextWithSpan,
  createContextKey,
  ensureStarted,
  epochMillis,
  exceptionAttributes,
  getTracer,
  NonRecordingSpan,
  recordError,
  type Span,
  SpanStatusCode,
  semconv,
  spanFrom,
  withContext,
} from '@threadline/core'
import { type DocumentLike, findOperation, sanitizeDocument } from './document.js'
import { type FieldInfo, FieldSpan, pathStrings, type ResponsePath } from './fields.js'
import { followIncremental, isIncrementalResult } from './incremental.js'
import type { ResolvedOptions } from './options.js'
import { renameServerSpan } from './server-span.js'
import { VERSION } from './version.js'

export const tracer = getTracer('@threadline/graphql', VERSION)

/** The operation whose resolvers run in a context. */
const OPERATION_KEY = createContextKey('graphql.operation')
/** A phase (`parse`, `validate`) a front door is already tracing. */
const PHASE_KEY = createContextKey('graphql.phase')

/** What a GraphQL error looks like to us (graphql 16 and 17 `GraphQLError`). */
export interface GraphQLErrorLike {
  message: string
  path?: ReadonlyArray<string | number> | undefined
  originalError?: unknown
}

export interface ExecutionResultLike {
  errors?: readonly GraphQLErrorLike[] | undefined
}

export interface OperationArgs {
  document: DocumentLike
  operationName?: string | null | undefined
  variables?: Readonly<Record<string, unknown>> | null | undefined
  /** The GraphQL context object: how resolvers find the operation when it is not in the async context (Apollo). */
  contextValue?: unknown
}

const byContextValue = new WeakMap<object, OperationTrace>()

/** The fields under one parent field path (`users.*.`), by response name. */
interface Scope {
  prefix: string
  fields: Map<string, FieldSpan>
}
const NO_SPAN = new NonRecordingSpan({
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceFlags: 0,
})

/** One operation: its span (named `query GetUser`) and the spans of its resolvers. */
export class OperationTrace {
  readonly span: Span
  readonly ctx: Context
  readonly options: ResolvedOptions
  readonly document: DocumentLike | undefined
  /** Resolver spans are worth making: the operation is sampled and resolver spans are on. */
  readonly tracing: boolean
  /** A second front door saw this same execution and left it to the first. */
  claimed = false
  ended = false
  /** Field spans by key: `users.*.posts` merged, `users.3.posts` one per call. */
  private readonly fields = new Map<string, FieldSpan>()
  private readonly root: Scope = { prefix: '', fields: new Map() }
  private readonly scopes = new WeakMap<ResponsePath, Scope>()
  private readonly scopesByPrefix = new Map<string, Scope>()
  /** The last parent path node looked up, and its scope: a list's items share their parent's node. */
  private lastNode: ResponsePath | undefined
  private lastScope: Scope | undefined
  /** Errors already recorded where they happened (resolver throws), not again at the end (made on the first). */
  private recorded: WeakSet<object> | undefined
  private readonly contextValue: object | undefined
  /** Without an operation span (graphql 16 with only `instrumentSchema`): merged spans end when resolvers go idle. */
  readonly implicit: boolean
  private inFlight = 0
  private idleCheck = false

  constructor(options: ResolvedOptions, parent: Context, args: OperationArgs | undefined) {
    ensureStarted()
    this.options = options
    this.document = args?.document
    this.implicit = args === undefined
    if (args === undefined) {
      // no active span: the top-level resolver spans start traces of their own
      const active = spanFrom(parent)
      this.span = active ?? NO_SPAN
      this.ctx = parent.setValue(OPERATION_KEY, this)
      this.tracing = options.resolverSpans && (active === undefined || active.isRecording())
      return
    }
    const operation = findOperation(args.document, args.operationName)
    const type = operation?.operation
    const name = operation?.name?.value
    const spanName = semconv.graphqlSpanName(type, name)
    this.span = tracer.startSpan(spanName, undefined, parent)
    if (this.span.isRecording()) {
      this.span.setAttribute(semconv.ATTR_GRAPHQL_OPERATION_TYPE, type ?? 'query')
      if (name) this.span.setAttribute(semconv.ATTR_GRAPHQL_OPERATION_NAME, name)
      this.recordDocument(args)
      if (options.renameServerSpan) renameServerSpan(parent, spanName)
    }
    this.ctx = contextWithSpan(parent, this.span).setValue(OPERATION_KEY, this)
    if (args.contextValue !== null && typeof args.contextValue === 'object') {
      this.contextValue = args.contextValue
      byContextValue.set(args.contextValue, this)
    }
    this.tracing = options.resolverSpans && this.span.isRecording()
  }

  private recordDocument(args: OperationArgs): void {
    const options = this.options
    const body = args.document.loc?.source.body
    if (options.recordDocument && body) {
      this.span.setAttribute(semconv.ATTR_GRAPHQL_DOCUMENT, sanitizeDocument(body, options.documentMaxLength))
    }
    if (options.allowedVariables.size && args.variables) {
      for (const name of options.allowedVariables) {
        const value = args.variables[name]
        if (value === undefined) continue
        this.span.setAttribute(semconv.graphqlVariableAttribute(name), variableValue(value))
      }
    }
  }

  /**
   * The span a resolver call at `path` runs in, made on the field's first call. Children are
   * attached to the nearest traced ancestor field.
   */
  fieldSpan(path: ResponsePath, field: FieldInfo): FieldSpan {
    if (!this.options.mergeListItems) {
      const key = pathStrings(path).path
      const span = new FieldSpan(tracer, field, key, this.parentOf(key), false)
      this.fields.set(key, span)
      return span
    }
    // hot path: calls of a merged field find its span through their parent's path object (one
    // per parent field, shared by the list items under it) and the field's response name, so the
    // `users.*.posts` string is built once per parent, not once per call.
    let parent = path.prev
    let lists = 0
    for (; parent !== undefined && typeof parent.key === 'number'; parent = parent.prev) lists++
    const scope = parent === undefined ? this.root : this.scopeOf(parent, lists)
    const name = path.key as string
    let span = scope.fields.get(name)
    if (span === undefined || span.closed) {
      const key = scope.prefix + name
      span = new FieldSpan(tracer, field, key, this.parentOf(key), true)
      scope.fields.set(name, span)
      this.fields.set(key, span)
    }
    return span
  }

  /** The scope of the fields under `node`, a field returning `lists` levels of lists. */
  private scopeOf(node: ResponsePath, lists: number): Scope {
    if (node === this.lastNode) return this.lastScope as Scope
    let scope = this.scopes.get(node)
    if (scope === undefined) {
      const prefix = `${pathStrings(node).key}.${'*.'.repeat(lists)}`
      scope = this.scopesByPrefix.get(prefix)
      if (scope === undefined) {
        scope = { prefix, fields: new Map() }
        this.scopesByPrefix.set(prefix, scope)
      }
      this.scopes.set(node, scope)
    }
    this.lastNode = node
    this.lastScope = scope
    return scope
  }

  /** Starts a timed call on a field span; returns its start time. */
  begin(field: FieldSpan): number {
    this.inFlight++
    return field.begin()
  }

  /** Starts timing an untimed call that returned a promise. */
  lateStart(field: FieldSpan): number {
    this.inFlight++
    return field.lateStart()
  }

  /** Ends a timed call (`startTurn`: SYNC, or the turn an asynchronous call started in). */
  finish(field: FieldSpan, start: number, startTurn: number, error: unknown, path: ResponsePath): void {
    this.noteRecorded(error)
    field.finish(start, startTurn, error, path)
    if (--this.inFlight === 0 && this.implicit) this.closeWhenIdle()
  }

  /** Counts an untimed call that returned or threw. */
  untimedSync(field: FieldSpan, error: unknown, path: ResponsePath): void {
    this.noteRecorded(error)
    field.untimedSync(error, path)
  }

  /** The rejection of an untimed call (operations without an end only: the others find it in the response). */
  untimedError(field: FieldSpan, error: unknown, path: ResponsePath): void {
    this.noteRecorded(error)
    field.addError(error, path)
  }

  private noteRecorded(error: unknown): void {
    if (error === null || typeof error !== 'object') return
    if (this.recorded === undefined) this.recorded = new WeakSet()
    this.recorded.add(error)
  }

  private parentOf(key: string): Context {
    for (let dot = key.lastIndexOf('.'); dot > 0; dot = key.lastIndexOf('.', dot - 1)) {
      const parent = this.fields.get(key.slice(0, dot))
      if (parent !== undefined && !parent.closed) return parent.ctx
      if (parent !== undefined && !this.options.mergeListItems) return parent.ctx
    }
    return this.ctx
  }

  /**
   * Ends the operation: errors of the response become exception events on the field span they
   * belong to (or the operation span), the operation span is an error if there are any.
   */
  end(result: ExecutionResultLike | undefined, error?: unknown, endTime?: number): void {
    if (this.ended) return
    this.ended = true
    if (this.contextValue && byContextValue.get(this.contextValue) === this) byContextValue.delete(this.contextValue)
    const errors = result?.errors
    if (this.span.isRecording()) {
      if (error !== undefined) recordError(this.span, error)
      if (errors?.length) {
        for (const e of errors) this.recordResponseError(e)
        this.span.setAttribute(semconv.ATTR_GRAPHQL_ERROR_COUNT, errors.length)
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message })
      }
    }
    for (const field of this.fields.values()) field.close()
    this.fields.clear()
    if (!this.implicit) this.span.end(endTime === undefined ? undefined : epochMillis(endTime))
  }

  /**
   * `end` with what an executor returned. An incremental delivery (graphql 17's `@defer` /
   * `@stream`) ends with its last payload: see `followIncremental`.
   */
  endWith(result: unknown, error?: unknown): void {
    if (isIncrementalResult(result)) {
      if (error === undefined && !this.ended && followIncremental(this, result)) return
      this.end(result.initialResult, error)
      return
    }
    this.end(result as ExecutionResultLike | undefined, error)
  }

  private recordResponseError(error: GraphQLErrorLike): void {
    const original = error.originalError
    if (original !== null && typeof original === 'object' && this.recorded?.has(original) === true) return
    const path = error.path?.join('.')
    let target: Span = this.span
    if (path) {
      const key = this.options.mergeListItems ? path.replace(/\.\d+(?=\.|$)/g, '.*') : path
      for (let end = key.length; end > 0; end = key.lastIndexOf('.', end - 1)) {
        const field = this.fields.get(key.slice(0, end))
        if (field && !field.closed) {
          // the field's own error (an untimed call's rejection, a non-null violation): one of its errors
          if (end === key.length) {
            field.addError(original instanceof Error ? original : error, path)
            return
          }
          target = field.span
          field.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
          break
        }
      }
    }
    target.addEvent('exception', {
      ...exceptionAttributes(error),
      [semconv.ATTR_GRAPHQL_ERROR_PATH]: path,
    })
  }

  private closeWhenIdle(): void {
    if (this.idleCheck) return
    this.idleCheck = true
    // The next resolvers of an execution start in the microtasks after their parent settles, so
    // nothing in flight after one macrotask means the execution's resolvers are done.
    setImmediate(() => {
      this.idleCheck = false
      if (this.inFlight > 0) return
      for (const field of this.fields.values()) field.close()
      this.fields.clear()
      forgetImplicit(this)
    })
  }
}

/** Starts an operation span (`query GetUser`) as a child of `parent` (the active context by default). */
export function startOperation(
  args: OperationArgs,
  options: ResolvedOptions,
  parent: Context = activeContext(),
): OperationTrace {
  return new OperationTrace(options, parent, args)
}

/** The operation a resolver call belongs to (it may have ended: a subscription's later events). */
export function operationOf(ctx: Context, contextValue: unknown): OperationTrace | undefined {
  const op = ctx.getValue(OPERATION_KEY) as OperationTrace | undefined
  if (op !== undefined) return op
  if (contextValue !== null && typeof contextValue === 'object') return byContextValue.get(contextValue)
  return undefined
}

const implicitOperations = new WeakMap<object, OperationTrace>()

/**
 * graphql 16 without a server plugin: no hook sees the execution start or end, so the resolvers
 * of one execution (one `info.variableValues` object, made fresh per execution) share an
 * operation without a span of its own, under the span active at the first resolver.
 */
export function implicitOperation(execution: object, options: ResolvedOptions): OperationTrace {
  // hot path: the resolvers of one execution run one after another, so one remembered execution
  // saves a WeakMap lookup per call
  if (execution === lastExecution) return lastImplicit as OperationTrace
  let op = implicitOperations.get(execution)
  if (op === undefined) {
    op = new OperationTrace(options, activeContext(), undefined)
    implicitOperations.set(execution, op)
  }
  lastExecution = execution
  lastImplicit = op
  return op
}
let lastExecution: object | undefined
let lastImplicit: OperationTrace | undefined

/** Forgets the remembered execution once its operation went idle, so it can be collected. */
function forgetImplicit(op: OperationTrace): void {
  if (lastImplicit === op) {
    lastExecution = undefined
    lastImplicit = undefined
  }
}

/** Whether another front door is already tracing this phase in `ctx`. */
export function isPhaseTraced(ctx: Context, phase: 'parse' | 'validate'): boolean {
  return ctx.getValue(PHASE_KEY) === phase
}

/** Runs a parse function in a `graphql.parse` span. */
export function traceParse<R>(parse: () => R): R {
  const ctx = activeContext()
  const span = startPhase(semconv.SPAN_GRAPHQL_PARSE, ctx)
  return runPhase(span, ctx.setValue(PHASE_KEY, 'parse'), parse, endParse)
}

/** Runs a validate function in a `graphql.validate` span; returned errors are recorded. */
export function traceValidate<R>(validate: () => R): R {
  const ctx = activeContext()
  const span = startPhase(semconv.SPAN_GRAPHQL_VALIDATE, ctx)
  return runPhase(span, ctx.setValue(PHASE_KEY, 'validate'), validate, endValidate)
}

function runPhase<R>(
  span: Span,
  ctx: Context,
  fn: () => R,
  end: (span: Span, result: R | undefined, error: unknown) => void,
): R {
  let result: R
  try {
    result = withContext(ctx, fn)
  } catch (error) {
    end(span, undefined, error)
    throw error
  }
  end(span, result, undefined)
  return result
}

export function startPhase(name: string, parent: Context): Span {
  ensureStarted()
  return tracer.startSpan(name, undefined, parent)
}

export function endParse(span: Span, _result: unknown, error: unknown): void {
  if (error !== undefined) recordError(span, error)
  span.end()
}

/** Ends a validate span; validation errors become exception events and an error status. */
export function endValidate(span: Span, result: unknown, error: unknown): void {
  if (error !== undefined) recordError(span, error)
  else if (Array.isArray(result) && result.length > 0 && span.isRecording()) {
    for (const e of result as GraphQLErrorLike[]) span.addEvent('exception', exceptionAttributes(e))
    span.setAttribute(semconv.ATTR_GRAPHQL_ERROR_COUNT, result.length)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (result[0] as GraphQLErrorLike).message })
  }
  span.end()
}

function variableValue(value: unknown): string | number | boolean {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
