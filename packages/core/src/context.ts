import { AsyncLocalStorage } from 'node:async_hooks'
import { EventEmitter } from 'node:events'

/**
 * An immutable context: a chain of key/value pairs, so `setValue` allocates one small node and
 * lookups walk a chain that is a handful of entries deep in practice. Mirrors
 * `@opentelemetry/api`'s Context so the OpenTelemetry bridge can hand it over unchanged.
 */
export interface Context {
  getValue(key: symbol): unknown
  setValue(key: symbol, value: unknown): Context
  deleteValue(key: symbol): Context
}

const DELETED = Symbol('threadline.deleted')

class ContextNode implements Context {
  constructor(
    private readonly parent: ContextNode | undefined,
    private readonly key: symbol | undefined,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    for (let node: ContextNode | undefined = this; node; node = node.parent) {
      if (node.key === key) return node.value === DELETED ? undefined : node.value
    }
    return undefined
  }

  setValue(key: symbol, value: unknown): Context {
    return new ContextNode(this, key, value)
  }

  deleteValue(key: symbol): Context {
    return new ContextNode(this, key, DELETED)
  }
}

/** A context with nothing in it: no active span, no baggage. */
export const ROOT_CONTEXT: Context = new ContextNode(undefined, undefined, undefined)

/** Creates a key for a value stored in a context. */
export function createContextKey(description: string): symbol {
  return Symbol.for(`threadline.${description}`)
}

// One AsyncLocalStorage per process, shared by the ESM and CJS builds of core (and by two
// copies of core in one node_modules tree), so the active span is the same for all of them.
interface SharedState {
  storage: AsyncLocalStorage<Context>
}
const SHARED_KEY = Symbol.for('threadline.core.context.v1')
const globalState = globalThis as unknown as Record<symbol, SharedState | undefined>
const shared: SharedState = globalState[SHARED_KEY] ?? { storage: new AsyncLocalStorage<Context>() }
globalState[SHARED_KEY] = shared
const storage = shared.storage

/** The context of the code running now. */
export function activeContext(): Context {
  return storage.getStore() ?? ROOT_CONTEXT
}

/** Runs `fn` with `ctx` as the active context, through every `await`, timer and promise in it. */
export function withContext<A extends unknown[], R>(ctx: Context, fn: (...args: A) => R, ...args: A): R {
  return storage.run(ctx, fn, ...args)
}

const SUPPRESS_KEY = createContextKey('suppress-tracing')

/** Runs `fn` with tracing suppressed: spans started inside it are not recorded (the SDK's own I/O). */
export function suppressTracing<R>(fn: () => R): R {
  return storage.run(activeContext().setValue(SUPPRESS_KEY, true), fn)
}

export function isTracingSuppressed(ctx: Context = activeContext()): boolean {
  return ctx.getValue(SUPPRESS_KEY) === true
}

const BOUND = Symbol('threadline.bound-listeners')
type Listener = (...args: unknown[]) => unknown
type BoundEmitter = EventEmitter & { [BOUND]?: WeakMap<Listener, Listener> }

/**
 * Binds a function or an EventEmitter to a context (the active one by default). A bound
 * function runs in that context wherever it is called from; a bound emitter calls every
 * listener added afterwards in it, which is what callbacks of sockets, streams and pools need.
 */
export function bindContext<T>(target: T, ctx: Context = activeContext()): T {
  if (typeof target === 'function') {
    const fn = target as unknown as Listener
    const bound = function (this: unknown, ...args: unknown[]) {
      return storage.run(ctx, () => fn.apply(this, args))
    }
    Object.defineProperty(bound, 'length', { value: fn.length })
    return bound as unknown as T
  }
  if (target instanceof EventEmitter) return bindEmitter(target as BoundEmitter, ctx) as T
  return target
}

function bindEmitter(emitter: BoundEmitter, ctx: Context): EventEmitter {
  if (emitter[BOUND]) return emitter
  const map = new WeakMap<Listener, Listener>()
  emitter[BOUND] = map
  const wrapAdd = (original: EventEmitter['on']) =>
    function (this: EventEmitter, event: string | symbol, listener: Listener) {
      let bound = map.get(listener)
      if (!bound) {
        bound = bindContext(listener, ctx)
        map.set(listener, bound)
      }
      return original.call(this, event, bound)
    }
  const wrapRemove = (original: EventEmitter['off']) =>
    function (this: EventEmitter, event: string | symbol, listener: Listener) {
      return original.call(this, event, map.get(listener) ?? listener)
    }
  emitter.on = wrapAdd(emitter.on)
  emitter.addListener = wrapAdd(emitter.addListener)
  emitter.once = wrapAdd(emitter.once)
  emitter.prependListener = wrapAdd(emitter.prependListener)
  emitter.prependOnceListener = wrapAdd(emitter.prependOnceListener)
  emitter.off = wrapRemove(emitter.off)
  emitter.removeListener = wrapRemove(emitter.removeListener)
  return emitter
}
