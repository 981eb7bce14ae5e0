/**
 * Nest calls user code that may answer synchronously, with a promise or with an Observable. This
 * file observes the three the same way: `settle` runs once with the outcome, and an Observable is
 * subscribed to inside the context it was created for.
 */
import { type Context, withContext } from '@threadline/core'
import { isObservable, Observable } from 'rxjs'

export interface Outcome {
  /** The last value produced (for a guard: whether it let the request through). */
  value?: unknown
  error?: unknown
  failed: boolean
}

/**
 * Calls `settle` when `result` is known: now for a plain value, when a promise settles, and when
 * an Observable completes, errors or is unsubscribed from. Returns what the caller should return.
 */
export function observe<T>(result: T, ctx: Context | undefined, settle: (outcome: Outcome) => void): T {
  if (isObservable(result)) return subscribeIn(result, ctx, settle) as T
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    return (result as unknown as PromiseLike<unknown>).then(
      (value) => {
        settle({ value, failed: false })
        return value
      },
      (error: unknown) => {
        settle({ error, failed: true })
        throw error
      },
    ) as T
  }
  settle({ value: result, failed: false })
  return result
}

function subscribeIn(source: Observable<unknown>, ctx: Context | undefined, settle: (outcome: Outcome) => void) {
  return new Observable<unknown>((subscriber) => {
    let done = false
    let last: unknown
    const finish = (outcome: Outcome) => {
      if (done) return
      done = true
      settle(outcome)
    }
    const subscribe = () =>
      source.subscribe({
        next(value) {
          last = value
          subscriber.next(value)
        },
        error(error: unknown) {
          finish({ error, failed: true })
          subscriber.error(error)
        },
        complete() {
          finish({ value: last, failed: false })
          subscriber.complete()
        },
      })
    const subscription = ctx ? withContext(ctx, subscribe) : subscribe()
    return () => {
      subscription.unsubscribe()
      finish({ value: last, failed: false })
    }
  })
}

/** An `HttpException` (or look-alike) with a 4xx status: the client's fault, not a server error. */
export function isClientError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const getStatus = (error as { getStatus?: unknown }).getStatus
  if (typeof getStatus !== 'function') return false
  try {
    const status = getStatus.call(error)
    return typeof status === 'number' && status >= 400 && status < 500
  } catch {
    return false
  }
}
