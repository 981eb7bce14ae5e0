import { randomFillSync } from 'node:crypto'

/** Produces trace and span ids as lower-case hex strings. */
export interface IdGenerator {
  /** 32 hex characters (16 bytes), never all zero. */
  generateTraceId(): string
  /** 16 hex characters (8 bytes), never all zero. */
  generateSpanId(): string
}

// hot path: one randomFillSync per POOL_SIZE bytes (512 trace ids or 1024 span ids) instead of one
// crypto call per id; hexSlice-style toString(range) allocates only the resulting string.
const POOL_SIZE = 8192
const pool = Buffer.allocUnsafe(POOL_SIZE)
let offset = POOL_SIZE

function take(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const start = offset
  offset += bytes
  return start
}

function isZero(start: number, bytes: number): boolean {
  for (let i = start; i < start + bytes; i++) if (pool[i] !== 0) return false
  return true
}

function randomHex(bytes: number): string {
  let start = take(bytes)
  // An all-zero id is invalid (W3C trace-context §3.2.2.3/§3.2.2.4); the chance is 2^-64 at most.
  while (isZero(start, bytes)) start = take(bytes)
  return pool.toString('hex', start, start + bytes)
}

/** The default generator: ids from a pooled buffer of cryptographically random bytes. */
export const randomIdGenerator: IdGenerator = {
  generateTraceId: () => randomHex(16),
  generateSpanId: () => randomHex(8),
}

export const INVALID_TRACE_ID = '00000000000000000000000000000000'
export const INVALID_SPAN_ID = '0000000000000000'

const TRACE_ID_RE = /^[0-9a-f]{32}$/
const SPAN_ID_RE = /^[0-9a-f]{16}$/

export function isValidTraceId(id: string): boolean {
  return TRACE_ID_RE.test(id) && id !== INVALID_TRACE_ID
}

export function isValidSpanId(id: string): boolean {
  return SPAN_ID_RE.test(id) && id !== INVALID_SPAN_ID
}
