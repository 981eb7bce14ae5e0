import type { Context } from '../context.js'

/** Reads header values from a carrier; values may be repeated (arrays) or comma-joined. */
export interface TextMapGetter<Carrier = unknown> {
  keys(carrier: Carrier): string[]
  get(carrier: Carrier, key: string): string | string[] | undefined
}

/** Writes a header into a carrier. */
export interface TextMapSetter<Carrier = unknown> {
  set(carrier: Carrier, key: string, value: string): void
}

/**
 * Reads a trace context from incoming headers and writes it to outgoing ones; mirrors
 * `@opentelemetry/api`'s TextMapPropagator. `extract` never throws: on bad input it returns
 * `ctx` unchanged, so the request starts a new trace.
 */
export interface TextMapPropagator<Carrier = unknown> {
  inject(ctx: Context, carrier: Carrier, setter: TextMapSetter<Carrier>): void
  extract(ctx: Context, carrier: Carrier, getter: TextMapGetter<Carrier>): Context
  /** The header names this propagator reads and writes (lower case). */
  fields(): string[]
}

type HeaderBag = Record<string, string | string[] | number | undefined>
interface FetchLikeHeaders {
  get(name: string): string | null
  set(name: string, value: string): void
  keys(): IterableIterator<string>
}
interface SetHeaderLike {
  setHeader(name: string, value: string): unknown
  getHeaderNames?(): string[]
  getHeader?(name: string): unknown
}

function isFetchHeaders(carrier: unknown): carrier is FetchLikeHeaders {
  return (
    typeof (carrier as FetchLikeHeaders | null)?.get === 'function' &&
    typeof (carrier as FetchLikeHeaders).keys === 'function'
  )
}

/**
 * Reads Node's `IncomingHttpHeaders` (lower-case keys, arrays for repeated headers), Fetch
 * `Headers`, and plain objects whose keys may have any case.
 */
export const headerGetter: TextMapGetter<unknown> = {
  keys(carrier) {
    if (!carrier || typeof carrier !== 'object') return []
    if (isFetchHeaders(carrier)) return [...carrier.keys()]
    return Object.keys(carrier)
  },
  get(carrier, key) {
    if (!carrier || typeof carrier !== 'object') return undefined
    if (isFetchHeaders(carrier)) return carrier.get(key) ?? undefined
    const bag = carrier as HeaderBag
    let value = bag[key]
    if (value === undefined) {
      // plain objects written by hand may use any case ("Traceparent", "X-B3-TraceId")
      for (const k in bag) {
        if (k.length === key.length && k.toLowerCase() === key) {
          value = bag[k]
          break
        }
      }
    }
    if (value === undefined) return undefined
    return typeof value === 'number' ? String(value) : value
  },
}

/** Writes to Fetch `Headers`, Node `OutgoingMessage` (`setHeader`) or plain objects. */
export const headerSetter: TextMapSetter<unknown> = {
  set(carrier, key, value) {
    if (!carrier || typeof carrier !== 'object') return
    if (isFetchHeaders(carrier)) carrier.set(key, value)
    else if (typeof (carrier as SetHeaderLike).setHeader === 'function')
      (carrier as SetHeaderLike).setHeader(key, value)
    else (carrier as HeaderBag)[key] = value
  },
}

/** One header value as a string: repeated headers are joined with "," (RFC 9110 §5.3). */
export function headerValue(getter: TextMapGetter<unknown>, carrier: unknown, key: string): string | undefined {
  const value = getter.get(carrier, key)
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(',') : value
}

/** Strips optional whitespace (RFC 9110 §5.6.3 OWS: spaces and tabs only) from both ends. */
export function trimOws(value: string): string {
  const first = value.charCodeAt(0)
  const last = value.charCodeAt(value.length - 1)
  if (first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09) return value
  let start = 0
  let end = value.length
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--
  return value.slice(start, end)
}

/** Tries each propagator's extract in order and injects with all of them. */
export function compositePropagator(propagators: readonly TextMapPropagator[]): TextMapPropagator {
  return {
    inject(ctx, carrier, setter) {
      for (const p of propagators) {
        try {
          p.inject(ctx, carrier, setter)
        } catch {
          // one broken propagator must not stop the others or the request
        }
      }
    },
    extract(ctx, carrier, getter) {
      let out = ctx
      for (const p of propagators) {
        try {
          out = p.extract(out, carrier, getter)
        } catch {
          // fall through: extract never throws into the request
        }
      }
      return out
    },
    fields() {
      return [...new Set(propagators.flatMap((p) => p.fields()))]
    },
  }
}

export const noopPropagator: TextMapPropagator = {
  inject() {},
  extract: (ctx) => ctx,
  fields: () => [],
}
