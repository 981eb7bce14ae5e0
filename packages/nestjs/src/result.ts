/**
 * Nest calls user code that may answer synchronously, with a promise or with an Observable. This
 * file observes the three the same way: `settle` runs once with the outcome, and an Observable is
 * subscribed to inside the context it was created for.
 */
import { type Context, withContext } from '@threadline/core'
import { isObservable, Observable } from 'rxjs'

/**
 * How a call ended: `failed` with `error`, or with `value` (the last value of an Observable; for a
 * guard, whether it let the request through). Positional, so settling allocates nothing.
 */
export type Settle = (failed: boolean, value: unknown, error: unknown) => void

/**
 * Calls `settle` once when `result` is known: now for a plain value, when a promise settles, and
 * when an Observable completes, errors or is unsubscribed from. Returns what the caller should return.
 */
export function observe<T>(result: T, ctx: Context | undefined, settle: Settle): T {
  // hot path: most guards, pipes and traced methods answer synchronously: one type test each
  if (result === null || typeof result !== 'object') {
    settle(false, result, undefined)
    return result
  }
  if (isObservable(result)) return subscribeIn(result, ctx, settle) as T
  if (typeof (result as { then?: unknown }).then === 'function') {
    return (result as unknown as PromiseLike<unknown>).then(
      (value) => {
        settle(false, value, undefined)
        return value
      },
      (error: unknown) => {
        settle(true, undefined, error)
        throw error
      },
    ) as T
  }
  settle(false, result, undefined)
  return result
}

function subscribeIn(source: Observable<unknown>, ctx: Context | undefined, settle: Settle) {
  return new Observable<unknown>((subscriber) => {
    let done = false
    let last: unknown
    const finish = (failed: boolean, error: unknown) => {
      if (done) return
      done = true
      settle(failed, last, error)
    }
    const subscribe = () =>
      source.subscribe({
        next(value) {
          last = value
          subscriber.next(value)
        },
        error(error: unknown) {
          finish(true, error)
          subscriber.error(error)
        },
        complete() {
          finish(false, undefined)
          subscriber.complete()
        },
      })
    const subscription = ctx ? withContext(ctx, subscribe) : subscribe()
    return () => {
      subscription.unsubscribe()
      finish(false, undefined)
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
