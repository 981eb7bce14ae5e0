import type { OtlpDecodeErrorCode } from './model.js'

/** Thrown inside the decoders only; the public functions turn it into an error result. */
export class DecodeFailure {
  constructor(
    readonly code: OtlpDecodeErrorCode,
    readonly message: string,
  ) {}
}

/** True for a trace id (32 hex) or span id (16 hex) that is well-formed and not all zeros. */
export function isValidHexId(id: string, hexLength: number): boolean {
  if (id.length !== hexLength) return false
  let nonZero = false
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    if (c === 48) continue
    if ((c > 48 && c <= 57) || (c >= 97 && c <= 102)) nonZero = true
    else return false
  }
  return nonZero
}
