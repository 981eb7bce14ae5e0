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
const SUPPRESS_KEY = createContextKey('suppress-tracing')
/** True once a bridge answers SUPPRESS_KEY from a foreign key: `getValue` then takes that path. */
let suppressKeyBridged = false

/**
 * A foreign context key (e.g. `@opentelemetry/api`'s span key) answered from one of ours, with
 * conversions both ways; how the OpenTelemetry bridge makes both APIs see one active span.
 */
export interface ContextKeyBridge {
  foreign: symbol
  own: symbol
  read(ownValue: unknown): unknown
  write(foreignValue: unknown): unknown
}

const bridges = new Map<symbol, ContextKeyBridge>()
const bridgesByOwnKey = new Map<symbol, ContextKeyBridge>()

/** Registers a bridged key; returns a function that removes it. */
export function bridgeContextKey(bridge: ContextKeyBridge): () => void {
  if (bridge.foreign === SUPPRESS_KEY) suppressKeyBridged = true
  bridges.set(bridge.foreign, bridge)
  bridgesByOwnKey.set(bridge.own, bridge)
  return () => {
    if (bridges.get(bridge.foreign) === bridge) bridges.delete(bridge.foreign)
    if (bridgesByOwnKey.get(bridge.own) === bridge) bridgesByOwnKey.delete(bridge.own)
  }
}

class ContextNode implements Context {
  /**
   * `getValue(SUPPRESS_KEY) === true`, worked out when the node is made (undefined when it depends
   * on a foreign context). hot path: every sampled span asks, and the key is almost never there,
   * so the lookup walked the whole chain (~10 ns for two nodes here, more in a real request).
   */
  readonly suppressed: boolean | undefined

  constructor(
    private readonly parent: ContextNode | undefined,
    private readonly key: symbol | undefined,
    private readonly value: unknown,
    /** A foreign context (another library's) this chain extends; see `adoptContext`. */
    private readonly foreign?: Context,
  ) {
    this.suppressed =
      key === SUPPRESS_KEY
        ? value === true
        : parent !== undefined
          ? parent.suppressed
          : foreign === undefined
            ? false
            : undefined
  }

  getValue(key: symbol): unknown {
    if (bridges.size !== 0) {
      const bridge = bridges.get(key)
      if (bridge) {
        const own = this.getValue(bridge.own)
        return own === undefined ? undefined : bridge.read(own)
      }
    }
    let node: ContextNode = this
    for (;;) {
      if (node.key === key) return node.value === DELETED ? undefined : node.value
      if (!node.parent) break
      node = node.parent
    }
    return node.foreign === undefined ? undefined : readForeign(node.foreign, key)
  }

  setValue(key: symbol, value: unknown): Context {
    if (bridges.size !== 0) {
      const bridge = bridges.get(key)
      if (bridge) return new ContextNode(this, bridge.own, bridge.write(value))
    }
    return new ContextNode(this, key, value)
  }

  deleteValue(key: symbol): Context {
    const bridge = bridges.size !== 0 ? bridges.get(key) : undefined
    return new ContextNode(this, bridge ? bridge.own : key, DELETED)
  }
}

function readForeign(foreign: Context, key: symbol): unknown {
  const value = foreign.getValue(key)
  if (value !== undefined) return value
  const bridge = bridgesByOwnKey.get(key)
  if (!bridge) return undefined
  const foreignValue = foreign.getValue(bridge.foreign)
  return foreignValue === undefined ? undefined : bridge.write(foreignValue)
}

/**
 * Returns `ctx` if it is one of ours, else a Threadline context that extends it: values set on it
 * are ours, lookups fall back to the foreign context (through bridged keys too).
 */
export function adoptContext(ctx: Context): Context {
  return ctx instanceof ContextNode ? ctx : new ContextNode(undefined, undefined, undefined, ctx)
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

/** The part of a `diagnostics_channel` channel that carries a store (e.g. a TracingChannel's `start`). */
export interface StoreChannel<Message> {
  bindStore(store: AsyncLocalStorage<Context>, transform?: (message: Message) => Context): void
  unbindStore(store: AsyncLocalStorage<Context>): boolean
}

/**
 * Makes the context `transform` returns for a message the active one while the publisher runs
 * `channel.runStores(message, fn)` (Node's `bindStore`), without handing out core's storage.
 * Returns a function that unbinds it.
 */
export function bindContextToChannel<Message>(
  channel: StoreChannel<Message>,
  transform: (message: Message) => Context,
): () => void {
  channel.bindStore(storage, transform)
  return () => {
    channel.unbindStore(storage)
  }
}

/** Runs `fn` with tracing suppressed: spans started inside it are not recorded (the SDK's own I/O). */
export function suppressTracing<R>(fn: () => R): R {
  return storage.run(activeContext().setValue(SUPPRESS_KEY, true), fn)
}

export function isTracingSuppressed(ctx: Context = activeContext()): boolean {
  if (ctx instanceof ContextNode && !suppressKeyBridged) {
    const suppressed = ctx.suppressed
    if (suppressed !== undefined) return suppressed
  }
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
