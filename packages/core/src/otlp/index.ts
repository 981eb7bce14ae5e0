/** `@threadline/core/otlp`: decoders for OTLP trace export requests (protobuf and JSON), for collectors. */

/** Encoders for Threadline's own spans (what the OTLP exporter sends). */
export { encodeTraceRequestJson, encodeTraceRequestJsonBytes } from '../export/otlp-json.js'
export { encodeTraceRequest as encodeTraceRequestProto } from '../export/otlp-proto.js'
export { decodeTraceRequestJson } from './decode-json.js'
export { decodeTraceRequestProto } from './decode-proto.js'
export {
  DEFAULT_LIMITS,
  type OtlpAttributes,
  type OtlpDecodeError,
  type OtlpDecodeErrorCode,
  type OtlpDecodeLimits,
  type OtlpDecodeResult,
  type OtlpEvent,
  type OtlpLink,
  type OtlpResourceSpans,
  type OtlpScope,
  type OtlpScopeSpans,
  type OtlpSpan,
  type OtlpSpanKind,
  type OtlpStatusCode,
  type OtlpTraceRequest,
  type OtlpValue,
} from './model.js'
