/**
 * graphql 17's front door: it publishes `graphql:parse`, `:validate`, `:execute` and
 * `:subscribe` TracingChannels, so subscribing is all it takes, whatever server runs graphql-js.
 * (graphql 16 publishes nothing: there `instrumentSchema` and the server plugins do the work.)
 *
 * Resolvers are not traced through `graphql:resolve`: with a subscriber, graphql wraps every
 * field's resolver (default ones included) in a channel call, which tripled execution time in
 * bench/graphql.bench.mjs. The schema's user resolvers are wrapped instead (`instrumentSchema`,
 * once per schema, at its first execution), and default resolvers cost nothing.
 */
import type { AsyncLocalStorage } from 'node:async_hooks'
import dc from 'node:diagnostics_channel'
import { activeContext, type Context, ensureStarted, type Span, semconv } from '@threadline/core'
import type { DocumentLike } from './document.js'
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
import { instrumentSchema, type SchemaLike } from './schema.js'

// The messages graphql 17 publishes (graphql/diagnostics.d.ts), as far as we read them.
interface PhaseMessage {
  error?: unknown
  result?: unknown
  [SPAN]?: Span
}
interface OperationMessage {
  schema: SchemaLike
  document: DocumentLike
  operationName: string | undefined
  rawVariableValues: Readonly<Record<string, unknown>> | null | undefined
  error?: unknown
  result?: unknown
  [OPERATION]?: OperationTrace
}
const SPAN = Symbol('threadline.graphql.span')
const OPERATION = Symbol('threadline.graphql.operation')

const parseChannel = dc.tracingChannel<unknown, PhaseMessage & object>('graphql:parse')
const validateChannel = dc.tracingChannel<unknown, PhaseMessage & object>('graphql:validate')
const executeChannel = dc.tracingChannel<unknown, OperationMessage>('graphql:execute')
const subscribeChannel = dc.tracingChannel<unknown, OperationMessage>('graphql:subscribe')

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

let userOptions: GraphQLTracingOptions = {}
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
const parseHandlers = phaseHandlers(semconv.SPAN_GRAPHQL_PARSE, 'parse', endParse)
const validateHandlers = phaseHandlers(semconv.SPAN_GRAPHQL_VALIDATE, 'validate', endValidate)

function startOperationStore(message: OperationMessage): Context {
  const ctx = activeContext()
  instrumentSchema(message.schema, userOptions)
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

/**
 * Subscribes to graphql 17's tracing channels (once per process; later calls only change the
 * options). Returns a function that unsubscribes.
 */
export function instrumentGraphql(given: GraphQLTracingOptions = {}): () => void {
  userOptions = given
  options = resolveOptions(given)
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
  return uninstrumentGraphql
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
}
