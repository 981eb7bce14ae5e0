import { AsyncResource } from 'node:async_hooks'
import {
  type Context,
  contextWithSpan,
  epochMillis,
  exceptionAttributes,
  type Span,
  SpanStatusCode,
  semconv,
  type Tracer,
  withContext,
} from '@threadline/core'

/** The field a resolver belongs to. */
export interface FieldInfo {
  parentType: string
  fieldName: string
  fieldType: string
}

/** A resolver as graphql-js calls it. */
export type Resolver<Info = unknown> = (source: unknown, args: unknown, contextValue: unknown, info: Info) => unknown

/** A GraphQL response path as graphql-js hands it to resolvers (`info.path`). */
export interface ResponsePath {
  readonly prev: ResponsePath | undefined
  readonly key: string | number
}

/** Field depth of a response path: list indices do not count (`users.3.posts` is 2). */
export function pathDepth(path: ResponsePath | undefined): number {
  let depth = 0
  for (let p = path; p; p = p.prev) if (typeof p.key === 'string') depth++
  return depth
}

/** `users.3.posts`, and the merge key `users.*.posts`. */
export function pathStrings(path: ResponsePath): { path: string; key: string } {
  let full = String(path.key)
  let key = full
  for (let p = path.prev; p; p = p.prev) {
    const segment = typeof p.key === 'number' ? '*' : p.key
    full = `${p.key}.${full}`
    key = `${segment}.${key}`
  }
  return { path: full, key }
}

/** Timed cheap synchronous calls in a row after which a field's synchronous calls go untimed. */
const CHEAP_STREAK = 8
/** A synchronous call under this many milliseconds is cheap: two clock reads would be 3% of it or more. */
const CHEAP_MS = 0.005
/** Of a field's untimed calls, one in 16 is timed, so a field that turns slow is timed again. */
const RECHECK_MASK = 15
/** `begin()`'s start time of a call that is not timed. */
export const UNTIMED = -1

/**
 * The span of one field: either one resolver call, or (merged) every call of one field path
 * across list items, from the first start to the last end, with count and duration statistics.
 */
export class FieldSpan {
  readonly span: Span
  /** The context resolvers of this field run in, so their own spans (SQL, HTTP) are its children. */
  readonly ctx: Context
  readonly key: string
  private readonly merged: boolean
  private count = 0
  private errors = 0
  /** Durations of timed calls. */
  private total = 0
  private max = 0
  private durations: number[] | undefined
  /** Timed synchronous calls: the mean that stands in for untimed ones. */
  private syncTimed = 0
  private syncTotal = 0
  /** Cheap synchronous calls in a row; at CHEAP_STREAK, synchronous calls stop reading the clock. */
  private cheapStreak = 0
  /** Calls since the streak was reached: every 16th is timed. */
  private sinceStreak = 0
  private lastEnd = 0
  /** An end-of-burst clock read is queued for untimed calls. */
  private endQueued = false
  /** The async context of this field's calls, captured at its first call (merged spans only). */
  private scope: AsyncResource | undefined
  inFlight = 0
  closed = false

  constructor(tracer: Tracer, field: FieldInfo, key: string, parent: Context, merged: boolean) {
    this.key = key
    this.merged = merged
    this.span = tracer.startSpan(semconv.graphqlResolverSpanName(field.parentType, field.fieldName), undefined, parent)
    this.span.setAttributes({
      [semconv.ATTR_GRAPHQL_FIELD_NAME]: field.fieldName,
      [semconv.ATTR_GRAPHQL_FIELD_PATH]: key,
      [semconv.ATTR_GRAPHQL_FIELD_TYPE]: field.fieldType,
      [semconv.ATTR_GRAPHQL_PARENT_TYPE]: field.parentType,
    })
    this.ctx = contextWithSpan(parent, this.span)
  }

  /**
   * Calls a resolver with this field's span active, so the spans it starts (SQL, HTTP) are its
   * children. Merged calls enter a context captured once, at the field's first call: its span,
   * and the values other AsyncLocalStorage users had set there.
   */
  run<Info>(resolve: Resolver<Info>, source: unknown, args: unknown, contextValue: unknown, info: Info): unknown {
    // hot path: entering a captured context (AsyncResource) costs ~15 ns; AsyncLocalStorage.run
    // costs 400-700 ns a call on Node 24, as it copies the context frame on entry and on exit.
    let scope = this.scope
    if (scope === undefined) {
      if (!this.merged) return withContext(this.ctx, resolve, source, args, contextValue, info)
      scope = withContext(this.ctx, captureScope)
      this.scope = scope
    }
    return scope.runInAsyncScope(resolve, undefined, source, args, contextValue, info)
  }

  /**
   * Marks a call as started; returns its start time, or UNTIMED once the field's synchronous
   * calls have proved cheap (then `finish` counts it and the span's end is read once per burst).
   */
  begin(): number {
    this.inFlight++
    // hot path: a clock read costs 60-80 ns, as much as a resolver that reads a property.
    if (this.cheapStreak >= CHEAP_STREAK && (++this.sinceStreak & RECHECK_MASK) !== 0) return UNTIMED
    return performance.now()
  }

  /** An untimed call returned a promise after all: it is timed from now on. */
  lateStart(): number {
    this.cheapStreak = 0
    return performance.now()
  }

  /** Records the end of a call started with `begin()`; ends the span unless calls are merged. */
  finish(start: number, error: unknown, path: ResponsePath, sync: boolean): void {
    this.inFlight--
    this.count++
    if (start === UNTIMED) {
      if (!this.endQueued) {
        this.endQueued = true
        queueMicrotask(() => this.markEnd())
      }
    } else {
      const end = performance.now()
      const duration = end - start
      this.total += duration
      if (duration > this.max) this.max = duration
      if (end > this.lastEnd) this.lastEnd = end
      if (this.merged) {
        if (this.durations === undefined) this.durations = []
        this.durations.push(duration)
        if (sync) {
          this.syncTimed++
          this.syncTotal += duration
          this.cheapStreak = duration < CHEAP_MS ? this.cheapStreak + 1 : 0
        } else this.cheapStreak = 0
      }
    }
    if (error !== undefined) {
      this.errors++
      this.recordError(error, pathStrings(path).path)
    }
    if (!this.merged) this.close()
  }

  /** The end of a burst of untimed calls: one clock read for all of them. */
  private markEnd(): void {
    this.endQueued = false
    const end = performance.now()
    if (end > this.lastEnd) this.lastEnd = end
  }

  /** An exception event with the error's response path. */
  recordError(error: unknown, path: string): void {
    this.span.addEvent('exception', { ...exceptionAttributes(error), [semconv.ATTR_GRAPHQL_ERROR_PATH]: path })
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
  }

  /** Ends the span at the end of its last call (now, if a call never settled). */
  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.endQueued) this.markEnd()
    if (this.merged) {
      // untimed calls were cheap synchronous ones: they count at the mean of the timed synchronous calls
      const untimed = this.count - (this.durations?.length ?? 0)
      const mean = this.syncTimed ? this.syncTotal / this.syncTimed : 0
      this.span.setAttributes({
        [semconv.ATTR_GRAPHQL_RESOLVER_COUNT]: this.count,
        [semconv.ATTR_GRAPHQL_RESOLVER_DURATION_TOTAL]: round(this.total + untimed * mean),
        [semconv.ATTR_GRAPHQL_RESOLVER_DURATION_MAX]: round(this.max),
        [semconv.ATTR_GRAPHQL_RESOLVER_DURATION_P50]: round(median(this.durations, untimed, mean)),
      })
      if (this.errors) this.span.setAttribute(semconv.ATTR_GRAPHQL_RESOLVER_ERROR_COUNT, this.errors)
    }
    this.span.end(this.inFlight > 0 || this.count === 0 ? undefined : epochMillis(this.lastEnd))
  }
}

const captureScope = () => new AsyncResource('graphql.resolver')

/** The median of `values` and `extra` more values equal to `fill`. */
function median(values: number[] | undefined, extra: number, fill: number): number {
  const timed = values?.length ?? 0
  if (timed + extra === 0) return 0
  // a typed array sorts numbers natively, without a comparator call per comparison
  const sorted = new Float64Array(timed + extra).fill(fill, timed)
  if (values) sorted.set(values)
  sorted.sort()
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Milliseconds to the microsecond: enough for a resolver, and short in every backend's UI. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
