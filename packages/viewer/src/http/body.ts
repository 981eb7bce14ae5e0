import type { IncomingMessage } from 'node:http'
import { gunzip, inflate } from 'node:zlib'

export interface HttpFailure {
  status: number
  message: string
}

export function isFailure(v: unknown): v is HttpFailure {
  return typeof v === 'object' && v !== null && 'status' in v && 'message' in v && !(v instanceof Buffer)
}

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit fails at
 * once; a chunked body fails as soon as it crosses the limit, without buffering the rest.
 * Compressed bodies are limited again after decompression (no zip bombs).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | HttpFailure> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return tooLarge(limit)
  const raw = await new Promise<Buffer | HttpFailure>((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        resolve(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error) => {
      cleanup()
      resolve({ status: 400, message: `request body could not be read: ${error.message}` })
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    const onAborted = () => onError(new Error('aborted'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
  if (isFailure(raw)) return raw
  return decompress(raw, String(req.headers['content-encoding'] ?? 'identity'), limit)
}

export function decompress(raw: Buffer, encoding: string, limit: number): Promise<Buffer | HttpFailure> {
  const name = encoding.trim().toLowerCase()
  if (name === '' || name === 'identity') return Promise.resolve(raw)
  if (name !== 'gzip' && name !== 'deflate') {
    return Promise.resolve({
      status: 415,
      message: `unsupported content encoding "${name.slice(0, 40)}"; use gzip or none`,
    })
  }
  const run = name === 'gzip' ? gunzip : inflate
  return new Promise((resolve) => {
    run(raw, { maxOutputLength: limit }, (error, out) => {
      if (!error) resolve(out)
      else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') resolve(tooLarge(limit))
      else resolve({ status: 400, message: `malformed ${name} body: ${error.message}` })
    })
  })
}

function tooLarge(limit: number): HttpFailure {
  return { status: 413, message: `request body is larger than the limit of ${limit} bytes (--max-body)` }
}
