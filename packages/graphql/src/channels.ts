/**
 * graphql 17's front door: it publishes `graphql:parse`, `:validate`, `:execute`, `:subscribe`
 * and `:resolve` TracingChannels, so subscribing is all it takes, whatever server runs it.
 * (graphql 16 publishes nothing: there `instrumentSchema` and the server plugins do the work.)
 */
import type { AsyncLocalStorage } from 'node:async_hooks'
import dc from 'node:diagnostics_channel'
import { activeContext, type Context, ensureStarted, type Span } from '@threadline/core'
import { SPAN_GRAPHQL_PARSE, SPAN_GRAPHQL_VALIDATE } from './attributes.js'
import type { DocumentLike } from './document.js'
import { dottedPathDepth, type FieldSpan, mergeKey } from './fields.js'
import {
  type ExecutionResultLike,
  endParse,
  endValidate,
  isPhaseTraced,
  type OperationTrace,
  operationOf,
  startOperation,
  startPhase,
} from './operation.js'
import { type GraphQLTracingOptions, type ResolvedOptions, resolveOptions } from './options.js'

// The messages graphql 17 publishes (graphql/diagnostics.d.ts), as far as we read them.
interface PhaseMessage {
  error?: unknown
  result?: unknown
  [SPAN]?: Span
}
interface OperationMessage {
  document: DocumentLike
  operationName: string | undefined
  rawVariableValues: Readonly<Record<string, unknown>> | null | undefined
  error?: unknown
  result?: unknown
  [OPERATION]?: OperationTrace
}
interface ResolveMessage {
  fieldName: string
  parentType: string
  fieldType: string
  isDefaultResolver: boolean
  readonly fieldPath: string
  error?: unknown
  result?: unknown
  [CALL]?: { field: FieldSpan; op: OperationTrace; start: number; path: string }
}

const SPAN = Symbol('threadline.graphql.span')
const OPERATION = Symbol('threadline.graphql.operation')
const CALL = Symbol('threadline.graphql.call')

const parseChannel = dc.tracingChannel<unknown, PhaseMessage & object>('graphql:parse')
const validateChannel = dc.tracingChannel<unknown, PhaseMessage & object>('graphql:validate')
const executeChannel = dc.tracingChannel<unknown, OperationMessage>('graphql:execute')
const subscribeChannel = dc.tracingChannel<unknown, OperationMessage>('graphql:subscribe')
const resolveChannel = dc.tracingChannel<unknown, ResolveMessage>('graphql:resolve')

/**
 * Core's async context storage, shared process-wide under this symbol (see core's context.ts):
 * binding it to a channel's `start` makes our span the active one inside graphql's call.
 */
function contextStorage(): AsyncLocalStorage<Context> {
  const shared = (globalThis as Record<symbol, { storage: AsyncLocalStorage<Context> } | undefined>)[
    Symbol.for('threadline.core.context.v1')
  ]
  if (!shared) throw new Error('TL_ERR_GRAPHQL_CORE: @threadline/core did not set up its context storage')
  return shared.storage
}

let options: ResolvedOptions = resolveOptions()
let subscribed = false

/** `end` fires once for a sync call (with result or error) and before `asyncEnd` for a promise. */
function settled(message: { error?: unknown; result?: unknown }): boolean {
  return Object.hasOwn(message, 'result') || Object.hasOwn(message, 'error')
}

const phaseHandlers = (name: string, phase: 'parse' | 'validate', end: typeof endParse) => ({
  start(message: PhaseMessage) {
    if (!isPhaseTraced(activeContext(), phase)) message[SPAN] = startPhase(name, activeContext())
  },
  end(message: PhaseMessage) {
    const span = message[SPAN]
    if (span) end(span, message.result, message.error)
  },
  asyncStart() {},
  asyncEnd() {},
  error() {},
})
const parseHandlers = phaseHandlers(SPAN_GRAPHQL_PARSE, 'parse', endParse)
const validateHandlers = phaseHandlers(SPAN_GRAPHQL_VALIDATE, 'validate', endValidate)

function startOperationStore(message: OperationMessage): Context {
  const ctx = activeContext()
  const current = operationOf(ctx, undefined)
  // A server plugin already started this execution's operation and runs it in its context.
  if (current && !current.ended && !current.claimed && current.document === message.document) {
    current.claimed = true
    return ctx
  }
  const op = startOperation(
    { document: message.document, operationName: message.operationName, variables: message.rawVariableValues },
    options,
    ctx,
  )
  message[OPERATION] = op
  return op.ctx
}

function endOperation(message: OperationMessage): void {
  const op = message[OPERATION]
  if (op === undefined) return
  const result = message.result as (ExecutionResultLike & { initialResult?: ExecutionResultLike }) | undefined
  op.end(result?.initialResult ?? result, message.error)
}

const operationHandlers = {
  start() {},
  end(message: OperationMessage) {
    if (settled(message)) endOperation(message)
  },
  asyncStart() {},
  asyncEnd: endOperation,
  error() {},
}

function startResolveStore(message: ResolveMessage): Context {
  const ctx = activeContext()
  const op = operationOf(ctx, undefined)
  // hot path: default resolvers (most fields) leave here, before the path string is built.
  if (op === undefined || !op.tracing || op.ended || (message.isDefaultResolver && op.options.ignoreTrivialResolvers))
    return ctx
  const path = message.fieldPath
  if (op.options.depth !== Number.POSITIVE_INFINITY && dottedPathDepth(path) > op.options.depth) return ctx
  const field = op.fieldSpan({
    parentType: message.parentType,
    fieldName: message.fieldName,
    fieldType: message.fieldType,
    path,
    key: op.options.mergeListItems ? mergeKey(path) : path,
  })
  if (field === undefined) return ctx
  message[CALL] = { field, op, start: op.begin(field), path }
  return field.ctx
}

function endResolve(message: ResolveMessage): void {
  const call = message[CALL]
  if (call === undefined) return
  message[CALL] = undefined
  call.op.finish(call.field, call.start, message.error, call.path)
}

const resolveHandlers = {
  start() {},
  end(message: ResolveMessage) {
    if (settled(message)) endResolve(message)
  },
  asyncStart() {},
  asyncEnd: endResolve,
  error() {},
}

/**
 * Subscribes to graphql 17's tracing channels (once per process; later calls only change the
 * options). Returns a function that unsubscribes.
 */
export function instrumentGraphql(userOptions: GraphQLTracingOptions = {}): () => void {
  options = resolveOptions(userOptions)
  ensureStarted()
  if (subscribed) return uninstrumentGraphql
  subscribed = true
  const storage = contextStorage()
  parseChannel.subscribe(parseHandlers)
  validateChannel.subscribe(validateHandlers)
  executeChannel.start.bindStore(storage, startOperationStore as (message: unknown) => Context)
  executeChannel.subscribe(operationHandlers)
  subscribeChannel.start.bindStore(storage, startOperationStore as (message: unknown) => Context)
  subscribeChannel.subscribe(operationHandlers)
  resolveChannel.start.bindStore(storage, startResolveStore as (message: unknown) => Context)
  resolveChannel.subscribe(resolveHandlers)
  return uninstrumentGraphql
}

/** Options for the first front door that enables the channels, unless the user set some. */
export function enableChannels(userOptions: GraphQLTracingOptions | undefined): void {
  if (!subscribed) instrumentGraphql(userOptions)
}

function uninstrumentGraphql(): void {
  if (!subscribed) return
  subscribed = false
  const storage = contextStorage()
  parseChannel.unsubscribe(parseHandlers)
  validateChannel.unsubscribe(validateHandlers)
  executeChannel.start.unbindStore(storage)
  executeChannel.unsubscribe(operationHandlers)
  subscribeChannel.start.unbindStore(storage)
  subscribeChannel.unsubscribe(operationHandlers)
  resolveChannel.start.unbindStore(storage)
  resolveChannel.unsubscribe(resolveHandlers)
}
