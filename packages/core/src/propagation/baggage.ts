import { activeContext, type Context, createContextKey, withContext } from '../context.js'
import { diag } from '../diag.js'
import { headerValue, type TextMapPropagator, trimOws } from './propagator.js'

/** One baggage entry: a value and its optional properties (`;k1=v1;k2`, opaque, W3C baggage §3.3.1.4). */
export interface BaggageEntry {
  value: string
  metadata?: string | undefined
}

/** Baggage: user key/value pairs that travel with a request across services (W3C Baggage). Immutable. */
export type Baggage = ReadonlyMap<string, BaggageEntry>

/** What `setBaggage` and `withBaggage` accept; `undefined` removes a key in `withBaggage`. */
export type BaggageInput = Baggage | Record<string, string | BaggageEntry | undefined>

/** W3C baggage §3.3.2 limits: we propagate at most 64 members and 8192 bytes. */
export const MAX_BAGGAGE_MEMBERS = 64
export const MAX_BAGGAGE_BYTES = 8192
// A header this long is abuse; parsing stops here (the limits are reached long before).
const MAX_INPUT_LENGTH = 65_536

const BAGGAGE_KEY = createContextKey('baggage')
const EMPTY: Baggage = new Map()

// RFC 7230 §3.2.6 token
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (W3C baggage §3.3.1)
const VALUE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/
// property = key OWS "=" OWS value / key OWS
const PROPERTY_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)?$/

export function isValidBaggageKey(key: string): boolean {
  return typeof key === 'string' && key.length <= MAX_BAGGAGE_BYTES && TOKEN_RE.test(key)
}

/** The baggage in `ctx` (the active context by default); empty when there is none. */
export function getBaggage(ctx: Context = activeContext()): Baggage {
  return (ctx.getValue(BAGGAGE_KEY) as Baggage | undefined) ?? EMPTY
}

/** A context whose baggage is exactly `entries` (invalid keys are dropped with a warning). */
export function setBaggage(ctx: Context, entries: BaggageInput): Context {
  const baggage = toBaggage(entries, undefined)
  return baggage.size === 0 ? ctx.deleteValue(BAGGAGE_KEY) : ctx.setValue(BAGGAGE_KEY, baggage)
}

/**
 * Runs `fn` with `entries` added to the active baggage (an `undefined` value removes a key), so
 * outgoing requests made inside it carry them in the `baggage` header.
 *
 * ```ts
 * await withBaggage({ 'tenant.id': tenant }, () => fetch(url))
 * ```
 */
export function withBaggage<R>(entries: BaggageInput, fn: () => R): R {
  const ctx = activeContext()
  const merged = toBaggage(entries, getBaggage(ctx))
  return withContext(merged.size === 0 ? ctx.deleteValue(BAGGAGE_KEY) : ctx.setValue(BAGGAGE_KEY, merged), fn)
}

function toBaggage(entries: BaggageInput, base: Baggage | undefined): Baggage {
  const out = new Map<string, BaggageEntry>(base)
  const pairs = entries instanceof Map ? entries.entries() : Object.entries(entries as object)
  for (const [key, raw] of pairs as Iterable<[string, string | BaggageEntry | undefined]>) {
    if (raw === undefined) {
      out.delete(key)
      continue
    }
    if (!isValidBaggageKey(key)) {
      diag.warn('TL_ERR_BAGGAGE_KEY', `baggage key "${String(key).slice(0, 64)}" is not an RFC 7230 token; dropped`)
      continue
    }
    const entry = typeof raw === 'string' ? { value: raw } : { value: String(raw.value), metadata: raw.metadata }
    out.delete(key) // re-insert so the newest entry is last, as in the header
    out.set(key, entry)
  }
  return out
}

/**
 * Parses a `baggage` header (several headers joined with ","). Invalid members are dropped one
 * by one (W3C baggage §4); parsing stops at 64 members or 8192 bytes. Duplicate keys: last wins.
 */
export function parseBaggage(header: string): Baggage {
  if (typeof header !== 'string' || header.length === 0) return EMPTY
  const s = header.length > MAX_INPUT_LENGTH ? header.slice(0, MAX_INPUT_LENGTH) : header
  const out = new Map<string, BaggageEntry>()
  let bytes = 0
  let members = 0
  let pos = 0
  while (pos < s.length && members < MAX_BAGGAGE_MEMBERS) {
    let end = s.indexOf(',', pos)
    if (end < 0) end = s.length
    const member = trimOws(s.slice(pos, end))
    pos = end + 1
    if (!member) continue
    if (bytes + member.length > MAX_BAGGAGE_BYTES) break
    const entry = parseMember(member)
    if (!entry) continue
    bytes += member.length + (members > 0 ? 1 : 0)
    members++
    out.delete(entry[0])
    out.set(entry[0], entry[1])
  }
  return out
}

function parseMember(member: string): [string, BaggageEntry] | undefined {
  const eq = member.indexOf('=')
  if (eq <= 0) return undefined
  const key = trimOws(member.slice(0, eq))
  if (!TOKEN_RE.test(key)) return undefined
  const semi = member.indexOf(';', eq)
  const rawValue = trimOws(semi < 0 ? member.slice(eq + 1) : member.slice(eq + 1, semi))
  if (!VALUE_RE.test(rawValue)) return undefined
  let value: string
  try {
    value = decodeURIComponent(rawValue)
  } catch {
    return undefined
  }
  if (semi < 0) return [key, { value }]
  const props: string[] = []
  for (const p of member.slice(semi + 1).split(';')) {
    const prop = trimOws(p)
    if (!prop) continue
    if (!PROPERTY_RE.test(prop)) return undefined
    props.push(prop)
  }
  return [key, props.length ? { value, metadata: props.join(';') } : { value }]
}

/** Serializes baggage as a header value; members that do not fit 64 members / 8192 bytes are left out. */
export function serializeBaggage(baggage: Baggage): string {
  let out = ''
  let count = 0
  for (const [key, entry] of baggage) {
    if (count === MAX_BAGGAGE_MEMBERS) break
    if (!isValidBaggageKey(key)) continue
    let member = `${key}=${encodeURIComponent(entry.value)}`
    if (entry.metadata) member += `;${entry.metadata}`
    const length = out.length + (count ? 1 : 0) + member.length
    if (length > MAX_BAGGAGE_BYTES) continue // never a partial member (§3.3.2)
    out = count ? `${out},${member}` : member
    count++
  }
  return out
}

/** W3C Baggage propagator (`baggage` header). */
export const w3cBaggagePropagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const baggage = ctx.getValue(BAGGAGE_KEY) as Baggage | undefined
    if (!baggage || baggage.size === 0) return
    const value = serializeBaggage(baggage)
    if (value) setter.set(carrier, 'baggage', value)
  },
  extract(ctx, carrier, getter) {
    const header = headerValue(getter, carrier, 'baggage')
    if (!header) return ctx
    const parsed = parseBaggage(header)
    if (parsed.size === 0) return ctx
    return ctx.setValue(BAGGAGE_KEY, mergeBaggage(getBaggage(ctx), parsed))
  },
  fields: () => ['baggage'],
}

/** `base` with `extra`'s entries added or replaced (used when two propagators both carry baggage). */
export function mergeBaggage(base: Baggage, extra: Baggage): Baggage {
  if (base.size === 0) return extra
  const out = new Map(base)
  for (const [k, v] of extra) {
    out.delete(k)
    out.set(k, v)
  }
  return out
}

/** A context with `baggage` as its baggage, unvalidated (for propagators that already validated). */
export function contextWithBaggage(ctx: Context, baggage: Baggage): Context {
  return baggage.size === 0 ? ctx : ctx.setValue(BAGGAGE_KEY, baggage)
}
