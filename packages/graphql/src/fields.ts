import {
  type Context,
  contextWithSpan,
  epochMillis,
  exceptionAttributes,
  type Span,
  SpanStatusCode,
  semconv,
  type Tracer,
} from '@threadline/core'

/** The field a resolver belongs to. */
export interface FieldInfo {
  parentType: string
  fieldName: string
  fieldType: string
}

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
  private total = 0
  private max = 0
  private durations: number[] | undefined
  private lastEnd = 0
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

  /** Marks a call as started; returns its start time. */
  begin(): number {
    this.inFlight++
    return performance.now()
  }

  /** Records the end of a call started with `begin()`; ends the span unless calls are merged. */
  finish(start: number, error: unknown, path: ResponsePath): void {
    const end = performance.now()
    const duration = end - start
    this.inFlight--
    this.count++
    this.total += duration
    if (duration > this.max) this.max = duration
    if (end > this.lastEnd) this.lastEnd = end
    if (this.merged) {
      if (this.durations === undefined) this.durations = []
      this.durations.push(duration)
    }
    if (error !== undefined) {
      this.errors++
      this.recordError(error, pathStrings(path).path)
    }
    if (!this.merged) this.close()
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
    if (this.merged) {
      this.span.setAttributes({
        [semconv.ATTR_GRAPHQL_RESOLVER_COUNT]: this.count,
        [semconv.ATTR_GRAPHQL_RESOLVER_DURATION_TOTAL]: round(this.total),
        [semconv.ATTR_GRAPHQL_RESOLVER_DURATION_MAX]: round(this.max),
        [semconv.ATTR_GRAPHQL_RESOLVER_DURATION_P50]: round(median(this.durations)),
      })
      if (this.errors) this.span.setAttribute(semconv.ATTR_GRAPHQL_RESOLVER_ERROR_COUNT, this.errors)
    }
    this.span.end(this.inFlight > 0 || this.count === 0 ? undefined : epochMillis(this.lastEnd))
  }
}

function median(values: number[] | undefined): number {
  if (!values || values.length === 0) return 0
  // a typed array sorts numbers natively, without a comparator call per comparison
  const sorted = Float64Array.from(values).sort()
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Milliseconds to the microsecond: enough for a resolver, and short in every backend's UI. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}
