import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import { decompress, isFailure } from '../http/body.js'
import type { Guard } from '../http/guard.js'
import { decodeOtlp, summarizeRejections } from './otlp.js'
import { exportResponseProto } from './otlp-response.js'
import type { IngestSink } from './sink.js'

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'

export interface OtlpGrpcOptions {
  sink: IngestSink
  guard: Guard
  maxBodyBytes: number
}

// gRPC status codes (grpc/doc/statuscodes.md)
const INVALID_ARGUMENT = 3
const RESOURCE_EXHAUSTED = 8
const UNIMPLEMENTED = 12
const INTERNAL = 13
const UNAUTHENTICATED = 16

/**
 * OTLP/gRPC without a gRPC library: unary `TraceService/Export` over cleartext HTTP/2 (h2c),
 * with gRPC's length-prefixed framing (grpc/doc/PROTOCOL-HTTP2.md) and status in trailers.
 */
export function createOtlpGrpcServer(options: OtlpGrpcOptions): Http2Server {
  const server = createServer({ maxSessionMemory: 64 })
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    handle(options, stream, headers).catch((error: unknown) => {
      options.sink.refused('otlp/grpc', 500, (error as Error).message)
      finish(stream, INTERNAL, 'internal error while storing spans')
    })
  })
  server.on('sessionError', () => {})
  return server
}

async function handle(
  options: OtlpGrpcOptions,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): Promise<void> {
  const { sink, guard, maxBodyBytes } = options
  const type = String(headers['content-type'] ?? '')
  if (headers[':method'] !== 'POST' || !type.startsWith('application/grpc')) {
    stream.respond({ ':status': 415, 'content-type': 'text/plain' })
    stream.end('expected a gRPC request (POST, content-type application/grpc)\n')
    return
  }
  if (headers[':path'] !== TRACE_EXPORT_PATH) {
    return finish(
      stream,
      UNIMPLEMENTED,
      `unknown method ${String(headers[':path']).slice(0, 120)}; only ${TRACE_EXPORT_PATH}`,
    )
  }
  if (type !== 'application/grpc' && type !== 'application/grpc+proto') {
    return finish(
      stream,
      INVALID_ARGUMENT,
      `unsupported gRPC content type "${type.slice(0, 60)}"; use application/grpc+proto`,
    )
  }
  if (!guard.authorized(headers))
    return finish(stream, UNAUTHENTICATED, 'missing or wrong bearer token (authorization metadata)')
  const frame = await readFrames(stream, maxBodyBytes + 5)
  if (typeof frame === 'number') {
    return finish(stream, RESOURCE_EXHAUSTED, `message is larger than the limit of ${maxBodyBytes} bytes (--max-body)`)
  }
  if (frame.length < 5) return finish(stream, INVALID_ARGUMENT, 'truncated gRPC frame (expected a 5-byte prefix)')
  const compressed = frame[0]
  const length = frame.readUInt32BE(1)
  if (compressed !== 0 && compressed !== 1)
    return finish(stream, INVALID_ARGUMENT, `bad gRPC compressed flag ${compressed}`)
  if (length !== frame.length - 5) {
    return finish(
      stream,
      INVALID_ARGUMENT,
      `gRPC frame declares ${length} bytes but carries ${frame.length - 5} (unary calls carry one message)`,
    )
  }
  let message = frame.subarray(5)
  if (compressed === 1) {
    const encoding = String(headers['grpc-encoding'] ?? '')
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      return finish(
        stream,
        UNIMPLEMENTED,
        `compressed message with unsupported grpc-encoding "${encoding.slice(0, 40)}"`,
      )
    }
    const out = await decompress(message, encoding, maxBodyBytes)
    if (isFailure(out)) return finish(stream, out.status === 413 ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT, out.message)
    message = out
  }
  const result = decodeOtlp(message, 'protobuf')
  if (typeof result === 'string') {
    sink.refused('otlp/grpc', 400, result)
    return finish(stream, INVALID_ARGUMENT, result)
  }
  await sink.accept(result, 'otlp/grpc')
  const reply = exportResponseProto(
    result.rejected ? { rejectedSpans: result.rejected, errorMessage: summarizeRejections(result) } : undefined,
  )
  const prefix = Buffer.alloc(5)
  prefix.writeUInt32BE(reply.length, 1)
  if (stream.destroyed) return
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'gzip' },
    { waitForTrailers: true },
  )
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
  stream.end(Buffer.concat([prefix, reply]))
}

/** Reads the whole request stream, or returns the byte count once it passes `limit`. */
function readFrames(stream: ServerHttp2Stream, limit: number): Promise<Buffer | number> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        stream.off('data', onData)
        stream.pause()
        resolve(size)
        return
      }
      chunks.push(chunk)
    }
    stream.on('data', onData)
    stream.once('end', () => resolve(Buffer.concat(chunks, size)))
    stream.once('error', () => resolve(Buffer.alloc(0)))
  })
}

/** A trailers-only response carrying a non-OK status (PROTOCOL-HTTP2.md "Trailers-Only"). */
function finish(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc+proto',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message.slice(0, 1024)),
    },
    { endStream: true },
  )
}
