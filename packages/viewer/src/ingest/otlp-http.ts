import type { IncomingMessage, ServerResponse } from 'node:http'
import { isFailure, readBody } from '../http/body.js'
import { type Guard, sendError } from '../http/guard.js'
import { decodeOtlp, type OtlpFormat, summarizeRejections } from './otlp.js'
import { exportResponseJson, exportResponseProto, type PartialSuccess, statusProto } from './otlp-response.js'
import type { IngestSink } from './sink.js'

export interface OtlpHttpOptions {
  sink: IngestSink
  guard: Guard
  maxBodyBytes: number
}

/** OTLP/HTTP (OTLP spec §OTLP/HTTP): `POST /v1/traces`, protobuf or JSON, optionally gzip. */
export function otlpHttpHandler(options: OtlpHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { sink, guard, maxBodyBytes } = options
  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      sink.refused('otlp/http', 500, (error as Error).message)
      sendError(res, 500, 'internal error while storing spans')
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (guard.cors(req, res)) return
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/v1/traces')
      return sendError(res, 404, `no such endpoint ${path?.slice(0, 100)}; OTLP traces go to POST /v1/traces`)
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return sendError(res, 405, 'use POST /v1/traces')
    }
    if (!guard.authorized(req.headers))
      return sendError(res, 401, 'missing or wrong bearer token (Authorization: Bearer <token>)')
    const format = formatOf(req.headers['content-type'])
    if (!format) {
      return sendError(
        res,
        415,
        `unsupported content type "${String(req.headers['content-type'] ?? '').slice(0, 80)}"; use application/x-protobuf or application/json`,
      )
    }
    const body = await readBody(req, maxBodyBytes)
    if (isFailure(body)) {
      sink.refused('otlp/http', body.status, body.message)
      return fail(res, format, body.status, body.message)
    }
    const result = decodeOtlp(body, format)
    if (typeof result === 'string') {
      sink.refused('otlp/http', 400, result)
      return fail(res, format, 400, result)
    }
    await sink.accept(result, 'otlp/http')
    const partial: PartialSuccess | undefined = result.rejected
      ? { rejectedSpans: result.rejected, errorMessage: summarizeRejections(result) }
      : undefined
    if (format === 'json') {
      const text = exportResponseJson(partial)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    } else {
      const bytes = exportResponseProto(partial)
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': bytes.length })
      res.end(bytes)
    }
  }
}

function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf'
  if (type === 'application/json') return 'json'
  return undefined
}

/** OTLP/HTTP §Failures: a `google.rpc.Status` in the request's encoding. */
function fail(res: ServerResponse, format: OtlpFormat, status: number, message: string): void {
  if (res.headersSent) return void res.destroy()
  if (status === 413) res.setHeader('connection', 'close')
  const code = status === 413 ? 8 : status === 415 ? 3 : 3
  if (format === 'json') {
    const text = JSON.stringify({ code, message })
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  } else {
    const bytes = statusProto(code, message)
    res.writeHead(status, { 'content-type': 'application/x-protobuf', 'content-length': bytes.length })
    res.end(bytes)
  }
}
