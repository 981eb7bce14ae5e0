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
import type { OperationTrace } from './operation.js'

/** The field a resolver belongs to. */
export interface FieldInfo {
  parentType: string
  fieldName: string
  fieldType: string
  /** What its calls cost, across executions: whether they are sampled (merged spans only). */
  cost: ResolverCost
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

// hot path: `performance` read once; the global is an accessor property in Node, a function call per read.
const clock = performance

/** Cheap timed calls in a row after which a merged field's calls are sampled: one in 16 is timed. */
const CHEAP_STREAK = 8
/** A synchronous call under this many milliseconds is cheap: two clock reads would be 3% of it or more. */
const CHEAP_MS = 0.005
/** Of a sampled field's calls, one in 16 is timed, so a field that turns slow is timed again. */
const RECHECK_MASK = 15
/** `finish()`'s start turn of a synchronous call. */
export const SYNC = -1

// Event-loop turns, as resolver calls see them: one setImmediate per turn that had calls bumps the
// counter. An asynchronous call is cheap when it settles in the turn it started in: it waited for
// no I/O and no timer, only for promises (its time is then CPU time the turn's other work shares).
let turn = 0
let turnQueued = false
/** Fields with untimed asynchronous calls this turn: their end is read once, when the turn ends. */
const endAtTurn: FieldSpan[] = []

/**
 * Fields with untimed synchronous calls in the running burst: their end is read once, when the
 * burst is over, so every field of one burst ends at the same moment, after all of its calls.
 */
const endAtBurst: FieldSpan[] = []

function endBurst(): void {
  const end = clock.now()
  for (const field of endAtBurst) field.markEnd(end)
  endAtBurst.length = 0
}

/** The current turn; makes sure its end is noticed. */
export function currentTurn(): number {
  if (!turnQueued) {
    turnQueued = true
    setImmediate(endTurn)
  }
  return turn
}

function endTurn(): void {
  turnQueued = false
  turn++
  if (endAtTurn.length === 0) return
  const end = clock.now()
  for (const field of endAtTurn) field.turnEnded(end)
  endAtTurn.length = 0
}

/**
 * What the calls of one schema field's resolver have cost, across executions and field paths:
 * a resolver that proved cheap in one request is sampled in the next, from its first call.
 */
export class ResolverCost {
  /** Cheap timed calls in a row; at CHEAP_STREAK, calls are sampled. */
  cheapStreak = 0
  /** Calls since sampling started: every 16th is timed. */
  sinceStreak = 0
  /** The last timed asynchronous call was cheap: untimed ones need no `then`. */
  asyncCheap = false
  /** Moving means of timed calls by kind (NaN: none yet): they stand in for untimed calls. */
  syncMean = Number.NaN
  asyncMean = Number.NaN
  /**
   * The merged span of the last call, the parent path node it was found under (shared by the
   * items of one list) and its operation; cleared when the span closes.
   */
  lastParent: ResponsePath | undefined = undefined
  lastSpan: FieldSpan | undefined = undefined
  lastOperation: OperationTrace | undefined = undefined

  /** Whether the next call is timed: always, until the calls proved cheap; then one in 16. */
  timed(): boolean {
    return this.cheapStreak < CHEAP_STREAK || (++this.sinceStreak & RECHECK_MASK) === 0
  }

  /** A timed call took `duration` ms; `sameTurn`: SYNC, or whether an asynchronous call settled in its turn. */
  add(duration: number, sameTurn: boolean | typeof SYNC): void {
    let cheap: boolean
    if (sameTurn === SYNC) {
      this.syncMean = Number.isNaN(this.syncMean) ? duration : this.syncMean + (duration - this.syncMean) / 8
      cheap = duration < CHEAP_MS
    } else {
      this.asyncMean = Number.isNaN(this.asyncMean) ? duration : this.asyncMean + (duration - this.asyncMean) / 8
      cheap = sameTurn
      this.asyncCheap = cheap
    }
    this.cheapStreak = cheap ? this.cheapStreak + 1 : 0
  }
}

/**
 * The span of one field: either one resolver call, or (merged) every call of one field path
 * across list items, from the first start to the last end, with count and duration statistics.
 *
 * Merged fields whose calls proved cheap (CHEAP_STREAK timed calls in a row: synchronous ones
 * under CHEAP_MS, asynchronous ones settled in their own event-loop turn) are sampled: one call
 * in 16 is timed, the others are only counted, and count at the mean of the timed calls of
 * their kind in `duration.total_ms` and `p50_ms`. A timed call that is not cheap ends sampling.
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
  /** Timed calls by kind: their means stand in for untimed calls of the same kind. */
  private syncTimed = 0
  private syncTotal = 0
  private asyncTimed = 0
  private asyncTotal = 0
  private syncUntimed = 0
  private asyncUntimed = 0
  /** Shared by every span of the schema field (merged spans only; unmerged calls are all timed). */
  readonly cost: ResolverCost | undefined
  private lastEnd = 0
  /** An end-of-burst clock read is queued for untimed synchronous calls. */
  private endQueued = false
  /** An end-of-turn clock read is queued for untimed asynchronous calls. */
  private turnEndQueued = false
  /** The async context of this field's calls, captured at its first call (merged spans only). */
  private scope: AsyncResource | undefined
  inFlight = 0
  closed = false

  constructor(tracer: Tracer, field: FieldInfo, key: string, parent: Context, merged: boolean) {
    this.key = key
    this.merged = merged
    if (merged) this.cost = field.cost
    const span = tracer.startSpan(semconv.graphqlResolverSpanName(field.parentType, field.fieldName), undefined, parent)
    // hot path: one call per attribute, not an object literal with computed keys (a runtime call per key)
    span.setAttribute(semconv.ATTR_GRAPHQL_FIELD_NAME, field.fieldName)
    span.setAttribute(semconv.ATTR_GRAPHQL_FIELD_PATH, key)
    span.setAttribute(semconv.ATTR_GRAPHQL_FIELD_TYPE, field.fieldType)
    span.setAttribute(semconv.ATTR_GRAPHQL_PARENT_TYPE, field.parentType)
    this.span = span
    this.ctx = contextWithSpan(parent, this.span)
  }

  /**
   * Calls a resolver with this field's span active, so the spans it starts (SQL, HTTP) are its
   * children. Merged calls enter a context captured once, at the field's first call: its span,
   * and the values other AsyncLocalStorage users had set there.
   */
  run<Info>(resolve: Resolver<Info>, source: unknown, args: unknown, contextValue: unknown, info: Info): unknown {
    // hot path: entering a captured context (AsyncResource) costs ~30 ns; AsyncLocalStorage.run
    // costs 400-700 ns a call on Node 24, as it copies the context frame on entry and on exit.
    let scope = this.scope
    if (scope === undefined) {
      if (!this.merged) return withContext(this.ctx, resolve, source, args, contextValue, info)
      scope = withContext(this.ctx, captureScope)
      this.scope = scope
    }
    return scope.runInAsyncScope(resolve, undefined, source, args, contextValue, info)
  }

  /** Whether the next call is timed (see ResolverCost). */
  timed(): boolean {
    return this.cost === undefined || this.cost.timed()
  }

  /** The field's asynchronous calls proved cheap: an untimed one needs no `then`. */
  get asyncCheap(): boolean {
    return this.cost?.asyncCheap === true
  }

  /** Starts a timed call; returns its start time. */
  begin(): number {
    this.inFlight++
    // hot path: a clock read costs 60-80 ns, as much as a resolver that reads a property.
    return clock.now()
  }

  /**
   * Records the end of a timed call started with `begin()` (`startTurn`: SYNC, or the turn an
   * asynchronous call started in); ends the span unless calls are merged.
   */
  finish(start: number, startTurn: number, error: unknown, path: ResponsePath): void {
    this.inFlight--
    this.count++
    const end = clock.now()
    const duration = end - start
    this.total += duration
    if (duration > this.max) this.max = duration
    if (end > this.lastEnd) this.lastEnd = end
    if (this.merged) {
      if (this.durations === undefined) this.durations = []
      this.durations.push(duration)
      if (startTurn === SYNC) {
        this.syncTimed++
        this.syncTotal += duration
      } else {
        this.asyncTimed++
        this.asyncTotal += duration
      }
      this.cost?.add(duration, startTurn === SYNC ? SYNC : startTurn === turn)
    }
    if (error !== undefined) this.addError(error, path)
    if (!this.merged) this.close()
  }

  /** Counts an untimed call that returned (or threw) without a promise. */
  untimedSync(error: unknown, path: ResponsePath): void {
    this.count++
    this.syncUntimed++
    // no timed synchronous call to stand in for this one: time the next calls
    if (this.cost !== undefined && Number.isNaN(this.cost.syncMean)) this.cost.cheapStreak = 0
    if (!this.endQueued) {
      this.endQueued = true
      endAtBurst.push(this)
      if (endAtBurst.length === 1) queueMicrotask(endBurst)
    }
    if (error !== undefined) this.addError(error, path)
  }

  /**
   * Counts an untimed call whose promise is not observed (the field's asynchronous calls proved
   * cheap): the span's end is read at the end of this turn, or when it closes, if earlier.
   */
  untimedAsync(): void {
    this.count++
    this.asyncUntimed++
    if (!this.turnEndQueued) {
      this.turnEndQueued = true
      endAtTurn.push(this)
      currentTurn()
    }
  }

  /** An untimed call returned a promise and the field's asynchronous calls are not proven cheap: time it from now. */
  lateStart(): number {
    if (this.cost !== undefined) this.cost.cheapStreak = 0
    return this.begin()
  }

  /** An error of an untimed asynchronous call (seen in the response, or by a rejection handler). */
  addError(error: unknown, path: ResponsePath | string): void {
    this.errors++
    this.recordError(error, typeof path === 'string' ? path : pathStrings(path).path)
  }

  /** The end (`end`, read once for every field of the burst) of a burst of untimed synchronous calls. */
  markEnd(end: number): void {
    if (!this.endQueued) return
    this.endQueued = false
    if (end > this.lastEnd) this.lastEnd = end
  }

  /** The turn of untimed asynchronous calls ended at `end`. */
  turnEnded(end: number): void {
    if (!this.turnEndQueued) return
    this.turnEndQueued = false
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
    if (this.endQueued) this.markEnd(clock.now())
    if (this.turnEndQueued) this.turnEnded(clock.now())
    if (this.merged) {
      // untimed calls count at the mean of the timed calls of their kind, in this span or else
      // the field's recent ones (an estimate)
      const syncMean = this.syncTimed ? this.syncTotal / this.syncTimed : meanOr0(this.cost?.syncMean)
      const asyncMean = this.asyncTimed ? this.asyncTotal / this.asyncTimed : meanOr0(this.cost?.asyncMean)
      const total = this.total + this.syncUntimed * syncMean + this.asyncUntimed * asyncMean
      let max = this.max
      if (this.syncUntimed && syncMean > max) max = syncMean
      if (this.asyncUntimed && asyncMean > max) max = asyncMean
      const span = this.span
      span.setAttribute(semconv.ATTR_GRAPHQL_RESOLVER_COUNT, this.count)
      span.setAttribute(semconv.ATTR_GRAPHQL_RESOLVER_DURATION_TOTAL, round(total))
      span.setAttribute(semconv.ATTR_GRAPHQL_RESOLVER_DURATION_MAX, round(max))
      span.setAttribute(
        semconv.ATTR_GRAPHQL_RESOLVER_DURATION_P50,
        round(median(this.durations, syncMean, this.syncUntimed, asyncMean, this.asyncUntimed)),
      )
      if (this.errors) this.span.setAttribute(semconv.ATTR_GRAPHQL_RESOLVER_ERROR_COUNT, this.errors)
    }
    this.scope = undefined
    this.durations = undefined
    const cost = this.cost
    if (cost !== undefined && cost.lastSpan === this) {
      cost.lastParent = undefined
      cost.lastSpan = undefined
      cost.lastOperation = undefined
    }
    this.span.end(this.inFlight > 0 || this.count === 0 ? undefined : epochMillis(this.lastEnd))
  }
}

function meanOr0(mean: number | undefined): number {
  return mean === undefined || Number.isNaN(mean) ? 0 : mean
}

const captureScope = () => new AsyncResource('graphql.resolver')

/** The median of `values`, `countA` more values equal to `fillA` and `countB` equal to `fillB`. */
export function median(
  values: readonly number[] | undefined,
  fillA: number,
  countA: number,
  fillB: number,
  countB: number,
): number {
  // a typed array sorts numbers natively, without a comparator call per comparison (and is built
  // from an array without the iterator protocol `Float64Array.from` goes through)
  const sorted = values === undefined ? EMPTY : new Float64Array(values).sort()
  const n = sorted.length + countA + countB
  if (n === 0) return 0
  // the fills as two runs in ascending order, walked alongside the sorted timed values
  const swap = fillA > fillB
  const low = swap ? fillB : fillA
  const lowCount = swap ? countB : countA
  const high = swap ? fillA : fillB
  const highCount = swap ? countA : countB
  const mid = n >> 1
  if (n % 2) return kth(sorted, low, lowCount, high, highCount, mid)
  return (kth(sorted, low, lowCount, high, highCount, mid - 1) + kth(sorted, low, lowCount, high, highCount, mid)) / 2
}
const EMPTY = new Float64Array(0)

/** The k-th smallest (from 0) of `sorted` and the runs of `lowCount` × `low` and `highCount` × `high` (low <= high). */
function kth(sorted: Float64Array, low: number, lowCount: number, high: number, highCount: number, k: number): number {
  let seen = 0
  let i = 0
  while (i < sorted.length && (sorted[i] as number) <= low) {
    if (seen++ === k) return sorted[i] as number
    i++
  }
  seen += lowCount
  if (seen > k) return low
  while (i < sorted.length && (sorted[i] as number) <= high) {
    if (seen++ === k) return sorted[i] as number
    i++
  }
  seen += highCount
  if (seen > k) return high
  return sorted[i + k - seen] as number
}

/** Milliseconds to the microsecond: enough for a resolver, and short in every backend's UI. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
