/**
 * POSTs export payloads with retries: capped exponential backoff with jitter, only for outcomes
 * worth retrying (OTLP/HTTP spec §Failures: 429, 502, 503, 504, connection errors, timeouts),
 * honouring `Retry-After`, and never past the caller's deadline or AbortSignal. Every request
 * runs with tracing suppressed, so the SDK never traces its own exports.
 */
import http from 'node:http'
import https from 'node:https'
import { suppressTracing } from '../context.js'
import type { ExportResult } from './exporter.js'

export interface HttpTransportOptions {
  url: URL
  headers: Record<string, string>
  /** Longest time for one export, all attempts included, ms. */
  timeoutMs: number
  /** First backoff, ms (default 250); doubles per attempt up to `maxBackoffMs` (default 5000). */
  initialBackoffMs?: number
  maxBackoffMs?: number
  /** Attempts per export, the first included (default 6). */
  maxAttempts?: number
  /** Sees the (first 64 KiB of the) body of each successful response, e.g. for OTLP partial success. */
  onSuccess?: ((body: Buffer, contentType: string | undefined) => void) | undefined
  /** TLS material for an `https` URL: trusted CA(s) (replacing the system roots), an mTLS client key and certificate (PEM). */
  tls?: TlsMaterial | undefined
}

/** PEM contents, as read from OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE, _CLIENT_KEY, _CLIENT_CERTIFICATE. */
export interface TlsMaterial {
  ca?: Buffer | string | undefined
  key?: Buffer | string | undefined
  cert?: Buffer | string | undefined
}

/** Status codes the OTLP/HTTP spec calls retryable. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504])
const RETRYABLE_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'EXPORT_TIMEOUT',
])
/** Keep at most this much of a response body (error text, OTLP partial success). */
const MAX_BODY = 64 * 1024

type Attempt = { ok: true } | { ok: false; retryable: boolean; error: Error; retryAfterMs?: number | undefined }

/** One keep-alive connection pool per transport; closed by `close()`. */
export class HttpTransport {
  private readonly agent: http.Agent
  private readonly request: typeof http.request
  private readonly initialBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxAttempts: number

  constructor(private readonly options: HttpTransportOptions) {
    const secure = options.url.protocol === 'https:'
    this.request = secure ? https.request : http.request
    const tls = options.tls ?? {}
    this.agent = secure
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 4,
          ...(tls.ca !== undefined && { ca: tls.ca }),
          ...(tls.key !== undefined && tls.cert !== undefined && { key: tls.key, cert: tls.cert }),
        })
      : new http.Agent({ keepAlive: true, maxSockets: 4 })
    this.initialBackoffMs = options.initialBackoffMs ?? 250
    this.maxBackoffMs = options.maxBackoffMs ?? 5000
    this.maxAttempts = options.maxAttempts ?? 6
  }

  /** Sends `body`, retrying what may succeed later. Never rejects. */
  async send(body: Uint8Array | string, signal: AbortSignal | undefined): Promise<ExportResult> {
    const deadline = Date.now() + this.options.timeoutMs
    let backoff = this.initialBackoffMs
    let last: Attempt | undefined
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (signal?.aborted) break
      const remaining = deadline - Date.now()
      if (remaining <= 0) break
      last = await this.post(body, remaining, signal)
      if (last.ok) return last
      if (!last.retryable || attempt === this.maxAttempts) break
      // "equal jitter" (half fixed, half random): spreads retries from many processes after an outage
      let delay = backoff / 2 + Math.random() * (backoff / 2)
      if (last.retryAfterMs !== undefined) delay = Math.max(delay, last.retryAfterMs)
      if (Date.now() + delay >= deadline) break
      if (!(await sleep(delay, signal))) break
      backoff = Math.min(backoff * 2, this.maxBackoffMs)
    }
    if (last && !last.ok) return { ok: false, error: last.error, retryable: last.retryable }
    const reason = signal?.aborted ? abortReason(signal) : `no answer within ${this.options.timeoutMs} ms`
    return { ok: false, error: new Error(`${this.target()}: ${reason}`), retryable: true }
  }

  close(): void {
    this.agent.destroy()
  }

  private target(): string {
    return `POST ${this.options.url.href}`
  }

  private post(body: Uint8Array | string, timeoutMs: number, signal: AbortSignal | undefined): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      let settled = false
      const finish = (attempt: Attempt) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve(attempt)
      }
      const fail = (error: Error & { code?: string }, retryable = RETRYABLE_ERRORS.has(error.code ?? '')) => {
        const hint =
          error.code === 'ECONNREFUSED'
            ? ' (nothing listens there: is the collector or `npx @threadline/viewer` running?)'
            : ''
        finish({ ok: false, retryable, error: new Error(`${this.target()} failed: ${error.message}${hint}`) })
      }
      const req = suppressTracing(() =>
        this.request(this.options.url, {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.options.headers, 'content-length': Buffer.byteLength(body) },
        }),
      )
      const timer = setTimeout(() => {
        const error = Object.assign(new Error(`no answer within ${Math.round(timeoutMs)} ms`), {
          code: 'EXPORT_TIMEOUT',
        })
        fail(error)
        req.destroy(error)
      }, timeoutMs)
      timer.unref()
      const onAbort = () => {
        fail(new Error(abortReason(signal as AbortSignal)), false)
        req.destroy()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      req.on('error', (error) => fail(error))
      req.on('response', (res) => {
        const status = res.statusCode ?? 0
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY) chunks.push(chunk)
          size += chunk.length
        })
        res.on('error', (error) => fail(error))
        res.on('aborted', () =>
          fail(Object.assign(new Error('the connection closed mid-response'), { code: 'ECONNRESET' })),
        )
        res.on('end', () => {
          if (status >= 200 && status < 300) {
            finish({ ok: true })
            if (this.options.onSuccess && size > 0) {
              try {
                this.options.onSuccess(Buffer.concat(chunks), res.headers['content-type'])
              } catch {
                // a response we cannot read does not undo a success
              }
            }
            return
          }
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 300).replace(/\s+/g, ' ').trim()
          const retryable = RETRYABLE_STATUS.has(status)
          finish({
            ok: false,
            retryable,
            retryAfterMs: retryable ? parseRetryAfter(res.headers['retry-after']) : undefined,
            error: new Error(
              `${this.target()} answered ${status} ${res.statusMessage ?? ''}${text ? `: ${text}` : ''}${retryable ? '' : ' (not retried)'}`,
            ),
          })
        })
      })
      req.end(body)
    })
  }
}

/** `Retry-After` as ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const date = Date.parse(v)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function abortReason(signal: AbortSignal): string {
  const reason = signal.reason
  return reason instanceof Error ? reason.message : 'the export was aborted'
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false)
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
