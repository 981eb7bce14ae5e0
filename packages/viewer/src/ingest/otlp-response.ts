/**
 * The two small messages a collector answers with, encoded by hand (a decoder lives in core; the
 * viewer only ever writes these): `ExportTraceServiceResponse` (opentelemetry-proto
 * trace_service.proto) and `google.rpc.Status` (OTLP/HTTP §Failures).
 */

export interface PartialSuccess {
  rejectedSpans: number
  errorMessage: string
}

export function exportResponseProto(partial: PartialSuccess | undefined): Buffer {
  if (!partial || partial.rejectedSpans === 0) return Buffer.alloc(0)
  const inner = Buffer.concat([field(1, 0, varint(partial.rejectedSpans)), stringField(2, partial.errorMessage)])
  return field(1, 2, Buffer.concat([varint(inner.length), inner]))
}

export function exportResponseJson(partial: PartialSuccess | undefined): string {
  if (!partial || partial.rejectedSpans === 0) return '{}'
  return JSON.stringify({
    partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage },
  })
}

/** `google.rpc.Status` with a gRPC code (3 = INVALID_ARGUMENT, …). */
export function statusProto(code: number, message: string): Buffer {
  return Buffer.concat([field(1, 0, varint(code)), stringField(2, message)])
}

function stringField(number: number, text: string): Buffer {
  const bytes = Buffer.from(text)
  return field(number, 2, Buffer.concat([varint(bytes.length), bytes]))
}

function field(number: number, wireType: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((number << 3) | wireType), payload])
}

function varint(n: number): Buffer {
  const bytes: number[] = []
  let v = Math.max(0, Math.floor(n))
  while (v > 0x7f) {
    bytes.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  bytes.push(v)
  return Buffer.from(bytes)
}
