/**
 * graphql 16 with a server that takes an `execute` function (graphql-http, express-graphql's
 * `customExecuteFn`, your own handler): wrapping `execute` gives each execution its operation
 * span and an end, which `instrumentSchema` alone cannot see.
 */
import { withContext } from '@threadline/core'
import type { DocumentLike } from './document.js'
import { type OperationTrace, startOperation } from './operation.js'
import { type GraphQLTracingOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { instrumentSchema, type SchemaLike } from './schema.js'

/** The part of graphql-js's `ExecutionArgs` read here and by the envelop plugin (16 and 17). */
export interface ExecutionArgsLike {
  schema: SchemaLike
  document: DocumentLike
  operationName?: string | null | undefined
  variableValues?: Readonly<Record<string, unknown>> | null | undefined
  contextValue?: unknown
}

/**
 * Wraps graphql-js's `execute` (or an executor with its signature and result): each call becomes
 * an operation span (`query GetUser`) with the resolver spans of `instrumentSchema` under it, and
 * the errors of its result recorded where they happened. The schema is instrumented on first
 * use. Not for `subscribe` (its result is a stream, which this does not follow). On graphql 17,
 * `instrumentGraphql()` does this for every `execute` already; both together make one operation span.
 *
 * ```js
 * import { execute } from 'graphql'
 * const tracedExecute = instrumentExecute(execute)
 * createHandler({ schema, execute: tracedExecute }) // graphql-http
 * ```
 */
/** Starts the operation of one execution, as graphql-js's execute arguments describe it. */
export function startExecution(args: ExecutionArgsLike, options: ResolvedOptions): OperationTrace {
  return startOperation(
    {
      document: args.document,
      operationName: args.operationName,
      variables: args.variableValues,
      contextValue: args.contextValue,
    },
    options,
  )
}

export function instrumentExecute<F extends (args: never) => unknown>(execute: F, options?: GraphQLTracingOptions): F {
  const resolved = resolveOptions(options)
  const traced = function (this: unknown, ...all: unknown[]): unknown {
    const args = all[0] as ExecutionArgsLike
    // graphql 15's positional form, or no schema or document: not ours to read, and graphql says what is wrong
    if (args === null || typeof args !== 'object' || args.schema == null || args.document == null) {
      return Reflect.apply(execute, this, all)
    }
    try {
      instrumentSchema(args.schema, options)
    } catch {
      // not a schema we can read: graphql's execute says what is wrong with it
    }
    let op: OperationTrace
    try {
      op = startExecution(args, resolved)
    } catch {
      // tracing never stands between a request and its result: a document we fail to read runs untraced
      return Reflect.apply(execute, this, all)
    }
    let result: unknown
    try {
      result = withContext(op.ctx, () => Reflect.apply(execute, this, [args]))
    } catch (error) {
      end(op, undefined, error)
      throw error
    }
    if (isPromiseLike(result)) return settle(op, result)
    end(op, result)
    return result
  }
  return traced as unknown as F
}

async function settle(op: OperationTrace, result: PromiseLike<unknown>): Promise<unknown> {
  let value: unknown
  try {
    value = await result
  } catch (error) {
    end(op, undefined, error)
    throw error
  }
  end(op, value)
  return value
}

/** Ends the operation; a failure to record it never replaces the result or the error. */
function end(op: OperationTrace, result: unknown, error?: unknown): void {
  try {
    op.endWith(result, error)
  } catch {
    // the span is lost, the response is not
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
}
