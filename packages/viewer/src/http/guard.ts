import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { gzip } from 'node:zlib'

/** Bearer token and CORS rules shared by every listener. */
export interface Guard {
  /** True when the request carries the token (or none is configured). */
  authorized(headers: IncomingMessage['headers'], url?: URL): boolean
  /** Sets CORS headers for the UI's own origins only; true when this was a preflight it answered. */
  cors(req: IncomingMessage, res: ServerResponse): boolean
  readonly token: string | undefined
}

export const TOKEN_COOKIE = 'threadline_token'

export function createGuard(token: string | undefined, uiOrigins: () => string[]): Guard {
  const expected = token ? Buffer.from(token) : undefined
  const matches = (given: string | undefined): boolean => {
    if (!expected || given === undefined) return false
    const buffer = Buffer.from(given)
    return buffer.length === expected.length && timingSafeEqual(buffer, expected)
  }
  return {
    token,
    authorized(headers, url) {
      if (!expected) return true
      const auth = headers['authorization']
      if (typeof auth === 'string' && /^bearer /i.test(auth) && matches(auth.slice(7).trim())) return true
      const cookie = headers['cookie']
      if (typeof cookie === 'string') {
        for (const part of cookie.split(';')) {
          const [name, ...rest] = part.trim().split('=')
          if (name === TOKEN_COOKIE && matches(decodeURIComponent(rest.join('=')))) return true
        }
      }
      const query = url?.searchParams.get('token')
      return query !== null && query !== undefined && matches(query)
    },
    cors(req, res) {
      const origin = req.headers['origin']
      const allowed = typeof origin === 'string' && uiOrigins().includes(origin)
      if (allowed) {
        res.setHeader('access-control-allow-origin', origin)
        res.setHeader('vary', 'origin')
      }
      if (req.method !== 'OPTIONS') return false
      if (allowed) {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, content-encoding',
          'access-control-max-age': '600',
        })
      } else {
        res.writeHead(403, { 'content-type': 'text/plain' })
      }
      res.end(allowed ? undefined : 'cross-origin requests are only allowed from the viewer UI\n')
      return true
    },
  }
}

/** JSON bodies above this are gzipped for clients that accept it (a 10,000-span trace is ~4.3 MB). */
const GZIP_MIN_BYTES = 64 * 1024

/** Sends `body` as JSON; gzipped when it is large and `acceptEncoding` (the request's header) allows gzip. */
export function sendJson(res: ServerResponse, status: number, body: unknown, acceptEncoding?: string): void {
  const text = JSON.stringify(body)
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'accept-encoding',
  }
  if (text.length >= GZIP_MIN_BYTES && acceptsGzip(acceptEncoding)) {
    // async: gzipping megabytes must not stall ingest on the same event loop
    gzip(text, { level: 4 }, (error, zipped) => {
      if (res.destroyed) return
      if (error) {
        res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) })
        res.end(text)
        return
      }
      res.writeHead(status, { ...headers, 'content-encoding': 'gzip', 'content-length': zipped.length })
      res.end(zipped)
    })
    return
  }
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** `gzip` listed without `q=0` (RFC 9110 §12.5.3). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue
    return !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p))
  }
  return false
}

/** Answers with an error and, for a body we stopped reading, closes the connection afterwards. */
export function sendError(res: ServerResponse, status: number, message: string, json = true): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (status === 413) res.setHeader('connection', 'close')
  if (json) sendJson(res, status, { error: message })
  else {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(`${message}\n`)
  }
}
