/**
 * graphql 17's incremental delivery (`@defer` / `@stream` through `experimentalExecuteIncrementally`):
 * the executor returns `{ initialResult, subsequentResults }` and keeps resolving after the initial
 * payload. The operation lasts until the last payload: its stream is read through a wrapper that
 * collects the payloads' errors and ends the operation when the stream finishes, fails, or the
 * consumer closes it.
 */
import type { ExecutionResultLike, GraphQLErrorLike } from './operation.js'

/** What `experimentalExecuteIncrementally` returns. */
export interface IncrementalResultLike {
  initialResult: (ExecutionResultLike & { hasNext?: boolean }) | undefined
  subsequentResults: unknown
}

/** One later payload, as far as it is read here. */
interface SubsequentPayload {
  hasNext?: boolean
  incremental?: ReadonlyArray<{ errors?: readonly GraphQLErrorLike[] | undefined }>
  completed?: ReadonlyArray<{ errors?: readonly GraphQLErrorLike[] | undefined }>
}

/** The operation as the wrapper ends it (`endTime`: a span time, for a stream left unread). */
export interface Ending {
  end(result: ExecutionResultLike, error?: unknown, endTime?: number): void
}

type Payloads = AsyncIterator<SubsequentPayload> & Partial<AsyncIterable<SubsequentPayload>>

export function isIncrementalResult(value: unknown): value is IncrementalResultLike {
  return value !== null && typeof value === 'object' && 'initialResult' in value && 'subsequentResults' in value
}

/**
 * Replaces `result.subsequentResults` with a stream that reads through it and ends `op` with the
 * last payload. Returns false (the caller ends `op` now) when there is nothing more to wait for,
 * or the result cannot be changed.
 */
export function followIncremental(op: Ending, result: IncrementalResultLike): boolean {
  const source = result.subsequentResults as Payloads | null | undefined
  if (result.initialResult?.hasNext === false || typeof source?.next !== 'function') return false
  const { stream, state } = readThrough(op, source, result.initialResult?.errors)
  try {
    result.subsequentResults = stream
  } catch {
    return false
  }
  if (result.subsequentResults !== stream) return false
  unread.register(stream, state, state)
  return true
}

/** A stream's ending, held apart from the stream so that the stream can be collected. */
interface Unread {
  /** When the last payload (or the initial result) came: the end of an operation left unread. */
  last: number
  finish(endTime?: number, error?: unknown): void
}

/** Ends the operations whose stream was dropped before its end, with the time of their last payload. */
const unread = new FinalizationRegistry<Unread>((held) => held.finish(held.last))

function readThrough(
  op: Ending,
  source: Payloads,
  initialErrors: readonly GraphQLErrorLike[] | undefined,
): { stream: AsyncGenerator<SubsequentPayload>; state: Unread } {
  const errors: GraphQLErrorLike[] = initialErrors ? [...initialErrors] : []
  let done = false
  const state: Unread = {
    last: performance.now(),
    finish(endTime?: number, error?: unknown) {
      if (done) return
      done = true
      unread.unregister(state)
      try {
        op.end({ errors }, error, endTime)
      } catch {
        // tracing never changes what the consumer of the stream gets
      }
    },
  }
  const stream: AsyncGenerator<SubsequentPayload> = {
    async next(...args: [] | [unknown]) {
      let step: IteratorResult<SubsequentPayload>
      try {
        step = await source.next(...args)
      } catch (error) {
        state.finish(undefined, error)
        throw error
      }
      state.last = performance.now()
      if (step.done) {
        state.finish()
      } else {
        collectErrors(step.value, errors)
        if (step.value?.hasNext === false) state.finish()
      }
      return step
    },
    async return(value?: unknown) {
      try {
        return source.return ? await source.return(value) : { done: true, value: undefined }
      } finally {
        // the consumer closed the stream (a client went away): the operation ends here
        state.finish()
      }
    },
    async throw(error?: unknown) {
      try {
        if (source.throw) return await source.throw(error)
        throw error
      } finally {
        state.finish()
      }
    },
    [Symbol.asyncIterator]() {
      return this
    },
    async [Symbol.asyncDispose]() {
      await this.return(undefined)
    },
  }
  return { stream, state }
}

function collectErrors(payload: SubsequentPayload | undefined, into: GraphQLErrorLike[]): void {
  if (payload === null || typeof payload !== 'object') return
  // a payload of a shape this does not know costs its errors, never the payload
  try {
    for (const part of payload.incremental ?? []) if (Array.isArray(part?.errors)) into.push(...part.errors)
    for (const part of payload.completed ?? []) if (Array.isArray(part?.errors)) into.push(...part.errors)
  } catch {}
}
