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
import dc from 'node:diagnostics_channel'
import { activeContext, bindContextToChannel, type Context, ensureStarted, type Span, semconv } from '@threadline/core'
import type { DocumentLike } from './document.js'
import {
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

let userOptions: GraphQLTracingOptions = {}
let options: ResolvedOptions = resolveOptions()
let subscribed = false
/** Unbinds core's context from the execute and subscribe channels (set while subscribed). */
let unbindStores: (() => void)[] = []

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
  op.endWith(message.result, message.error)
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
  parseChannel.subscribe(parseHandlers)
  validateChannel.subscribe(validateHandlers)
  // binding core's context to `start` makes the operation span the active one inside graphql's call
  unbindStores = [
    bindContextToChannel(executeChannel.start, startOperationStore),
    bindContextToChannel(subscribeChannel.start, startOperationStore),
  ]
  executeChannel.subscribe(operationHandlers)
  subscribeChannel.subscribe(operationHandlers)
  return uninstrumentGraphql
}

function uninstrumentGraphql(): void {
  if (!subscribed) return
  subscribed = false
  parseChannel.unsubscribe(parseHandlers)
  validateChannel.unsubscribe(validateHandlers)
  for (const unbind of unbindStores) unbind()
  unbindStores = []
  executeChannel.unsubscribe(operationHandlers)
  subscribeChannel.unsubscribe(operationHandlers)
}
