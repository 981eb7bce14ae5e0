import type { IncomingMessage, ServerResponse } from 'node:http'
import { isFailure, readBody } from '../http/body.js'
import { type Guard, sendError } from '../http/guard.js'
import type { IngestSink } from './sink.js'
import { decodeZipkinJson } from './zipkin.js'

export interface ZipkinHttpOptions {
  sink: IngestSink
  guard: Guard
  maxBodyBytes: number
}

/** Zipkin's collector endpoint, `POST /api/v2/spans` (v2 JSON); answers 202 like Zipkin. */
export function zipkinHttpHandler(options: ZipkinHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { sink, guard, maxBodyBytes } = options
  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      sink.refused('zipkin', 500, (error as Error).message)
      sendError(res, 500, 'internal error while storing spans', false)
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (guard.cors(req, res)) return
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/api/v2/spans') {
      return sendError(
        res,
        404,
        `no such endpoint ${path?.slice(0, 100)}; Zipkin spans go to POST /api/v2/spans`,
        false,
      )
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return sendError(res, 405, 'use POST /api/v2/spans', false)
    }
    if (!guard.authorized(req.headers)) return sendError(res, 401, 'missing or wrong bearer token', false)
    const type = String(req.headers['content-type'] ?? 'application/json')
      .split(';')[0]!
      .trim()
      .toLowerCase()
    if (type !== 'application/json') {
      return sendError(
        res,
        415,
        `unsupported content type "${type.slice(0, 80)}"; Zipkin v2 JSON (application/json) only`,
        false,
      )
    }
    const body = await readBody(req, maxBodyBytes)
    if (isFailure(body)) {
      sink.refused('zipkin', body.status, body.message)
      return sendError(res, body.status, body.message, false)
    }
    const result = decodeZipkinJson(body.toString('utf8'))
    if (typeof result === 'string') {
      sink.refused('zipkin', 400, result)
      return sendError(res, 400, result, false)
    }
    await sink.accept(result, 'zipkin')
    if (result.rejected && result.spans.length === 0) {
      return sendError(res, 400, `every span was rejected: ${result.reasons.join('; ')}`, false)
    }
    res.writeHead(202, { 'content-length': 0 })
    res.end()
  }
}
