/**
 * Apollo Server 4/5 front door. Apollo runs parse, validate and execute itself and hands plugins
 * callbacks around them; resolvers find their operation through the request's context object.
 */
import { activeContext, type Context, type Span, semconv } from '@threadline/core'
import type { DocumentLike } from './document.js'
import {
  type ExecutionResultLike,
  endParse,
  endValidate,
  type OperationTrace,
  startOperation,
  startPhase,
} from './operation.js'
import { type GraphQLTracingOptions, resolveOptions } from './options.js'
import { instrumentSchema, type SchemaLike } from './schema.js'

// The parts of Apollo's GraphQLRequestContext read here, typed structurally.
interface RequestContextLike {
  document?: DocumentLike | undefined
  operationName?: string | null | undefined
  request: { operationName?: string | null | undefined; variables?: Readonly<Record<string, unknown>> | undefined }
  contextValue?: unknown
  response?: {
    body?:
      | { kind: 'single'; singleResult: ExecutionResultLike }
      | { kind: 'incremental'; initialResult: ExecutionResultLike }
      | undefined
  }
}

type End<T> = (arg: T) => Promise<void>

/** Apollo's plugin hooks used here (`ApolloServerPlugin`). */
export interface ThreadlineApolloPlugin {
  serverWillStart(service: { schema: SchemaLike }): Promise<void>
  requestDidStart(requestContext: RequestContextLike): Promise<{
    parsingDidStart(): Promise<End<Error | undefined>>
    validationDidStart(): Promise<End<readonly Error[] | undefined>>
    executionDidStart(requestContext: RequestContextLike): Promise<{ executionDidEnd(error?: Error): Promise<void> }>
    willSendResponse(requestContext: RequestContextLike): Promise<void>
  }>
}

/** Traces Apollo Server 4/5: `new ApolloServer({ schema, plugins: [threadlineApolloPlugin()] })`. */
export function threadlineApolloPlugin(options?: GraphQLTracingOptions): ThreadlineApolloPlugin {
  const resolved = resolveOptions(options)
  return {
    async serverWillStart({ schema }) {
      instrumentSchema(schema, options)
    },
    async requestDidStart() {
      // Apollo awaits every hook in the request's async context: the HTTP server span's.
      const parent: Context = activeContext()
      let op: OperationTrace | undefined
      let executionEnd: number | undefined
      const phase = (name: string, end: (span: Span, result: unknown, error: unknown) => void) => {
        const span = startPhase(name, parent)
        return async (outcome: unknown) => {
          if (Array.isArray(outcome)) end(span, outcome, undefined)
          else end(span, undefined, outcome)
        }
      }
      return {
        async parsingDidStart() {
          return phase(semconv.SPAN_GRAPHQL_PARSE, endParse)
        },
        async validationDidStart() {
          return phase(semconv.SPAN_GRAPHQL_VALIDATE, endValidate)
        },
        async executionDidStart(requestContext) {
          op = startOperation(
            {
              document: requestContext.document as DocumentLike,
              operationName: requestContext.operationName ?? requestContext.request.operationName,
              variables: requestContext.request.variables,
              contextValue: requestContext.contextValue,
            },
            resolved,
            parent,
          )
          return {
            async executionDidEnd(error) {
              executionEnd = performance.now()
              if (error) op?.end(undefined, error, executionEnd)
            },
          }
        },
        async willSendResponse(requestContext) {
          // ended here, not in executionDidEnd, because the response's errors are known only now
          const body = requestContext.response?.body
          const result = body?.kind === 'single' ? body.singleResult : body?.initialResult
          op?.end(result, undefined, executionEnd)
        },
      }
    },
  }
}
