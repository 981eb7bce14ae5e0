/**
 * GraphQL Yoga / envelop front door. Yoga executes with @graphql-tools/executor (not graphql-js's
 * `execute`), so graphql 17's execute and resolve channels stay silent there: the plugin starts
 * the operation itself, runs execution in its context and instruments the schema's resolvers.
 */
import { withContext } from '@threadline/core'
import { type ExecutionArgsLike, startExecution } from './execute.js'
import { type ExecutionResultLike, type OperationTrace, traceParse, traceValidate } from './operation.js'
import { type GraphQLTracingOptions, resolveOptions } from './options.js'
import { instrumentSchema, type SchemaLike } from './schema.js'

// The envelop hooks used here (envelop 3-5), typed structurally so Yoga's own types accept them.
type AnyFn = (...args: never[]) => unknown
type ResultOrStream = ExecutionResultLike | AsyncIterable<ExecutionResultLike>
interface ExecutePayload {
  args: ExecutionArgsLike
  executeFn: AnyFn
  setExecuteFn(fn: AnyFn): void
}
interface SubscribePayload {
  args: ExecutionArgsLike
  subscribeFn: AnyFn
  setSubscribeFn(fn: AnyFn): void
}

/** An envelop plugin (`plugins: [useThreadline()]` in GraphQL Yoga or envelop). */
export interface ThreadlineEnvelopPlugin {
  onSchemaChange(payload: { schema: SchemaLike }): void
  onParse(payload: { parseFn: AnyFn; setParseFn(fn: AnyFn): void }): void
  onValidate(payload: { validateFn: AnyFn; setValidationFn(fn: AnyFn): void }): void
  onExecute(payload: ExecutePayload): { onExecuteDone(payload: { result: ResultOrStream }): unknown }
  onSubscribe(payload: SubscribePayload): {
    onSubscribeResult(payload: { result: ResultOrStream }): void
    onSubscribeError(payload: { error: unknown }): void
  }
}

/** Traces GraphQL Yoga / envelop: `createYoga({ schema, plugins: [useThreadline()] })`. */
export function useThreadline(options?: GraphQLTracingOptions): ThreadlineEnvelopPlugin {
  const resolved = resolveOptions(options)
  const start = (args: ExecutionArgsLike): OperationTrace => {
    instrumentSchema(args.schema, options)
    return startExecution(args, resolved)
  }
  return {
    onSchemaChange({ schema }) {
      instrumentSchema(schema, options)
    },
    onParse({ parseFn, setParseFn }) {
      setParseFn(((...args: never[]) => traceParse(() => parseFn(...args))) as AnyFn)
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn(((...args: never[]) => traceValidate(() => validateFn(...args))) as AnyFn)
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const op = start(args)
      setExecuteFn(((...a: never[]) => withContext(op.ctx, () => executeFn(...a))) as AnyFn)
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result)) return op.end(result)
          // @defer / @stream: the operation lasts until the last payload
          let errors: ExecutionResultLike['errors'] = []
          return {
            onNext({ result: next }: { result: ExecutionResultLike }) {
              if (next.errors?.length) errors = [...(errors ?? []), ...next.errors]
            },
            onEnd() {
              op.end({ errors })
            },
          }
        },
      }
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const op = start(args)
      setSubscribeFn(((...a: never[]) => withContext(op.ctx, () => subscribeFn(...a))) as AnyFn)
      // The span covers setting the subscription up; events are not part of it.
      return {
        onSubscribeResult({ result }) {
          op.end(isAsyncIterable(result) ? undefined : result)
        },
        onSubscribeError({ error }) {
          op.end(undefined, error)
        },
      }
    },
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResultLike> {
  return value !== null && typeof value === 'object' && Symbol.asyncIterator in value
}
