/**
 * graphql 16's front door (and any executor other than graphql-js 17's, e.g. Yoga's):
 * `instrumentSchema` wraps the resolvers of user code in place, once per schema.
 */
import { activeContext } from '@threadline/core'
import {
  currentTurn,
  type FieldInfo,
  type FieldSpan,
  pathDepth,
  ResolverCost,
  type Resolver as ResolverOf,
  type ResponsePath,
  SYNC,
} from './fields.js'
import { implicitOperation, type OperationTrace, operationOf } from './operation.js'
import { type GraphQLTracingOptions, type ResolvedOptions, resolveOptions } from './options.js'

// The parts of graphql-js's schema and resolve info read here (the same in 16 and 17).
interface ResolveInfoLike {
  fieldName: string
  path: ResponsePath
  variableValues: unknown
}
type Resolver = ResolverOf<ResolveInfoLike>
interface FieldLike {
  name: string
  type: unknown
  resolve?: Resolver | undefined
  [WRAPPED]?: true
}
interface ObjectTypeLike {
  name: string
  getFields(): Record<string, FieldLike>
}
/** A graphql-js `GraphQLSchema` (16 or 17). */
export interface SchemaLike {
  getTypeMap(): Record<string, unknown>
}

const WRAPPED = Symbol('threadline.graphql.wrapped')
const instrumented = new WeakSet<object>()

/**
 * Wraps, in place, the resolvers of every object type's fields so that calls become resolver
 * spans (merged per field path by default). Fields on the default resolver are left untouched
 * unless `ignoreTrivialResolvers` is false. Returns the same schema; calling it twice is a no-op.
 */
export function instrumentSchema<S extends SchemaLike>(schema: S, options?: GraphQLTracingOptions): S {
  if (instrumented.has(schema)) return schema
  instrumented.add(schema)
  const resolved = resolveOptions(options)
  for (const [typeName, type] of Object.entries(schema.getTypeMap())) {
    if (typeName.startsWith('__') || !isObjectType(type)) continue
    for (const field of Object.values(type.getFields())) {
      if (field[WRAPPED]) continue
      if (field.resolve === undefined && resolved.ignoreTrivialResolvers) continue
      field.resolve = tracedResolver(field.resolve ?? defaultResolver, type.name, field, resolved)
      field[WRAPPED] = true
    }
  }
  return schema
}

function isObjectType(type: unknown): type is ObjectTypeLike {
  // GraphQLObjectType has `isTypeOf` (maybe undefined); interfaces have `resolveType` instead
  return type !== null && typeof type === 'object' && 'isTypeOf' in type && 'getFields' in type
}

/** graphql-js's default field resolver: a property, or a method called with (args, context, info). */
const defaultResolver: Resolver = (source, args, contextValue, info) => {
  if (source === null || (typeof source !== 'object' && typeof source !== 'function')) return undefined
  const value = (source as Record<string, unknown>)[info.fieldName]
  return typeof value === 'function' ? value.call(source, args, contextValue, info) : value
}

function tracedResolver(resolve: Resolver, parentType: string, field: FieldLike, options: ResolvedOptions): Resolver {
  const info: FieldInfo = { parentType, fieldName: field.name, fieldType: String(field.type), cost: new ResolverCost() }
  const isDefault = resolve === defaultResolver
  const cost = info.cost
  return function tracedResolve(source, args, contextValue, resolveInfo) {
    // hot path: the calls of a merged field under one parent field (the items of a list share its
    // path node, made per execution) reuse the last call's span and operation, skipping the
    // context, operation and span lookups (~30% of the tracing instructions per call).
    let parent = resolveInfo.path.prev
    while (parent !== undefined && typeof parent.key === 'number') parent = parent.prev
    if (parent !== undefined && parent === cost.lastParent) {
      const span = cost.lastSpan as FieldSpan
      if (!span.closed) {
        return runResolver(cost.lastOperation as OperationTrace, span, resolve, source, args, contextValue, resolveInfo)
      }
    }
    let op = operationOf(activeContext(), contextValue)
    if (op === undefined) {
      const execution = resolveInfo.variableValues
      if (execution === null || typeof execution !== 'object') return resolve(source, args, contextValue, resolveInfo)
      op = implicitOperation(execution, options)
    }
    const opOptions = op.options
    // hot path: calls that get no span leave before any path work.
    if (!op.tracing || op.ended || (isDefault && opOptions.ignoreTrivialResolvers)) {
      return resolve(source, args, contextValue, resolveInfo)
    }
    if (opOptions.depth !== Number.POSITIVE_INFINITY && pathDepth(resolveInfo.path) > opOptions.depth) {
      return resolve(source, args, contextValue, resolveInfo)
    }
    const span = op.fieldSpan(resolveInfo.path, info)
    if (opOptions.mergeListItems && parent !== undefined) {
      cost.lastParent = parent
      cost.lastSpan = span
      cost.lastOperation = op
    }
    return runResolver(op, span, resolve, source, args, contextValue, resolveInfo)
  }
}

function runResolver(
  op: OperationTrace,
  field: FieldSpan,
  resolve: Resolver,
  source: unknown,
  args: unknown,
  contextValue: unknown,
  info: ResolveInfoLike,
): unknown {
  // hot path: a sampled call reads no clock and, unless its promise must be watched for errors,
  // adds no `then` (a promise reaction, two closures and a microtask: ~100 ns with its callback).
  if (!field.timed()) return runUntimed(op, field, resolve, source, args, contextValue, info)
  const start = op.begin(field)
  let result: unknown
  try {
    result = field.run(resolve, source, args, contextValue, info)
  } catch (error) {
    op.finish(field, start, SYNC, error, info.path)
    throw error
  }
  if (result === null || typeof result !== 'object' || typeof (result as PromiseLike<unknown>).then !== 'function') {
    op.finish(field, start, SYNC, result instanceof Error ? result : undefined, info.path)
    return result
  }
  return watch(op, field, start, result as PromiseLike<unknown>, info.path)
}

/** A call of a field whose calls proved cheap, and not one of the one in 16 that are timed. */
function runUntimed(
  op: OperationTrace,
  field: FieldSpan,
  resolve: Resolver,
  source: unknown,
  args: unknown,
  contextValue: unknown,
  info: ResolveInfoLike,
): unknown {
  let result: unknown
  try {
    result = field.run(resolve, source, args, contextValue, info)
  } catch (error) {
    op.untimedSync(field, error, info.path)
    throw error
  }
  if (result === null || typeof result !== 'object' || typeof (result as PromiseLike<unknown>).then !== 'function') {
    op.untimedSync(field, result instanceof Error ? result : undefined, info.path)
    return result
  }
  // its asynchronous calls have not proved cheap (its cheap calls were synchronous): time this one
  if (!field.asyncCheap) return watch(op, field, op.lateStart(field), result as PromiseLike<unknown>, info.path)
  // An operation with an end (every front door but `instrumentSchema` alone) finds the errors of
  // untimed calls in its response, with their paths; without one, only a rejection handler sees them.
  if (op.implicit) {
    if (!(result instanceof Promise)) {
      return watch(op, field, op.lateStart(field), result as PromiseLike<unknown>, info.path)
    }
    const path = info.path
    result.then(undefined, (error: unknown) => op.untimedError(field, error, path))
  }
  field.untimedAsync()
  return result
}

/** Times an asynchronous call until its promise settles, and records its error. */
function watch(
  op: OperationTrace,
  field: FieldSpan,
  start: number,
  result: PromiseLike<unknown>,
  path: ResponsePath,
): PromiseLike<unknown> {
  const turn = currentTurn()
  if (result instanceof Promise) {
    // hot path: graphql gets the resolver's own promise back, not one more promise to wait for
    result.then(
      (value) => op.finish(field, start, turn, value instanceof Error ? value : undefined, path),
      (error: unknown) => op.finish(field, start, turn, error, path),
    )
    return result
  }
  // other thenables (a query builder) may run again on each `then`: call it once, return ours
  return result.then(
    (value) => {
      op.finish(field, start, turn, value instanceof Error ? value : undefined, path)
      return value
    },
    (error: unknown) => {
      op.finish(field, start, turn, error, path)
      throw error
    },
  )
}
