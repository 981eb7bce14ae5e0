/**
 * Span time → Unix-epoch nanoseconds without BigInt, for the OTLP encoders. The result equals
 * `epochNanos(time)` from clock.ts exactly; it is split into (whole ms, ns within the ms) so it
 * can be written as a fixed64 (two 32-bit halves) or as a decimal string.
 */

const originMs = performance.timeOrigin
const originWholeMs = Math.floor(originMs)
const originFracNs = Math.round((originMs - originWholeMs) * 1e6)
const TWO_32 = 4294967296

/** Set by `splitNanos`: the epoch time as `ms * 1e6 + ns`, 0 <= ns < 1e6. */
export const split = { ms: 0, ns: 0 }

// hot path: called twice per span; integer arithmetic on doubles, every step stays below 2^53.
export function splitNanos(time: number): void {
  const r = originFracNs + Math.round(time * 1e6)
  const extraMs = Math.floor(r / 1e6)
  split.ms = originWholeMs + extraMs
  split.ns = r - extraMs * 1e6
}

/** Writes `time` as a little-endian fixed64 of epoch nanoseconds at `pos`. */
export function writeNanosLE(buf: Uint8Array, pos: number, time: number): void {
  splitNanos(time)
  const msHi = Math.floor(split.ms / TWO_32)
  const msLo = split.ms - msHi * TWO_32
  const low = msLo * 1e6 + split.ns // < 4.3e15: exact
  const carry = Math.floor(low / TWO_32)
  const lo = low - carry * TWO_32
  const hi = msHi * 1e6 + carry
  buf[pos] = lo & 0xff
  buf[pos + 1] = (lo >>> 8) & 0xff
  buf[pos + 2] = (lo >>> 16) & 0xff
  buf[pos + 3] = lo >>> 24
  buf[pos + 4] = hi & 0xff
  buf[pos + 5] = (hi >>> 8) & 0xff
  buf[pos + 6] = (hi >>> 16) & 0xff
  buf[pos + 7] = hi >>> 24
}

const PAD = ['', '0', '00', '000', '0000', '00000']

/** `time` as a decimal string of epoch nanoseconds (OTLP JSON's 64-bit integer form). */
export function nanosString(time: number): string {
  splitNanos(time)
  if (split.ms <= 0) return String(split.ms * 1e6 + split.ns)
  const ns = String(split.ns)
  return `${split.ms}${PAD[6 - ns.length] ?? ''}${ns}`
}
