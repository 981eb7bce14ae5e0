/**
 * The OTLP/HTTP trace exporter: http/protobuf (default) or http/json to `{endpoint}/v1/traces`,
 * optional gzip, configured by options or the OTEL_EXPORTER_OTLP_* variables (OTel SDK
 * "OTLP Exporter Configuration"; code options win, then the TRACES_ variable, then the generic one).
 */
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { diag } from '../diag.js'
import { envNumber, envString, parseKeyValueList } from '../env.js'
import type { ReadableSpan } from '../span.js'
import { VERSION } from '../version.js'
import { EXPORT_OK, type ExportResult, type SpanExporter } from './exporter.js'
import { HttpTransport, type TlsMaterial } from './http-transport.js'
import { encodeTraceRequestJsonBytes } from './otlp-json.js'
import { encodeTraceRequest } from './otlp-proto.js'

const gzipAsync = promisify(gzip)

export type OtlpProtocol = 'http/protobuf' | 'http/json'

export interface OtlpExporterOptions {
  /** Base URL; `/v1/traces` is appended (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318). */
  endpoint?: string
  /** Full traces URL, used as is (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Wins over `endpoint`. */
  url?: string
  /** Wire format (OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, default `http/protobuf`). */
  protocol?: OtlpProtocol
  /** Extra request headers, e.g. an API key (merged over OTEL_EXPORTER_OTLP_(TRACES_)HEADERS). */
  headers?: Record<string, string>
  /** `gzip` or `none` (OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION, default none). */
  compression?: 'gzip' | 'none'
  /** Longest time for one export, retries included, ms (OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT, default 10000). */
  timeoutMs?: number
  /** Retry tuning (defaults: 250 ms doubling up to 5 s, 6 attempts). */
  retry?: { initialBackoffMs?: number; maxBackoffMs?: number; maxAttempts?: number }
  /**
   * Path of a PEM file with the CA certificate(s) that verify an `https` endpoint
   * (OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE). They replace the system roots for this exporter.
   */
  certificate?: string
  /** Path of the PEM private key for mTLS (OTEL_EXPORTER_OTLP_(TRACES_)CLIENT_KEY); needs `clientCertificate`. */
  clientKey?: string
  /** Path of the PEM client certificate (chain) for mTLS (OTEL_EXPORTER_OTLP_(TRACES_)CLIENT_CERTIFICATE). */
  clientCertificate?: string
  /** The same material as PEM contents rather than paths (e.g. from a secret store); wins over the paths. */
  tls?: TlsMaterial
}

export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318'

/** Resolved settings, for tests and for users wondering where spans go. */
export interface OtlpExporterConfig {
  url: URL
  protocol: OtlpProtocol
  headers: Record<string, string>
  compression: 'gzip' | 'none'
  timeoutMs: number
  /** Which TLS material is in use for an `https` endpoint (never the PEM contents themselves). */
  tls: { ca: boolean; clientCertificate: boolean }
}

function tracesOrGeneric(suffix: string): string | undefined {
  return envString(`OTEL_EXPORTER_OTLP_TRACES_${suffix}`) ?? envString(`OTEL_EXPORTER_OTLP_${suffix}`)
}

/** Works out the exporter's settings from options, then the environment, then defaults. */
export function resolveOtlpConfig(options: OtlpExporterOptions = {}): OtlpExporterConfig {
  return resolveOtlpSettings(options).config
}

function resolveOtlpSettings(options: OtlpExporterOptions): { config: OtlpExporterConfig; tls: TlsMaterial } {
  const url = resolveUrl(options)
  let protocol = (options.protocol ?? tracesOrGeneric('PROTOCOL') ?? 'http/protobuf') as string
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    diag.warn(
      'TL_ERR_OTLP_PROTOCOL',
      `OTLP protocol "${protocol}" is not supported (use "http/protobuf" or "http/json"); using http/protobuf`,
    )
    protocol = 'http/protobuf'
  }
  let compression = (options.compression ?? tracesOrGeneric('COMPRESSION') ?? 'none').toLowerCase()
  if (compression !== 'gzip' && compression !== 'none') {
    diag.warn(
      'TL_ERR_OTLP_COMPRESSION',
      `OTLP compression "${compression}" is not supported (use "gzip" or "none"); using none`,
    )
    compression = 'none'
  }
  const timeoutMs =
    options.timeoutMs ??
    envNumber('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ??
    envNumber('OTEL_EXPORTER_OTLP_TIMEOUT') ??
    10_000
  const envHeaders = parseKeyValueList('OTEL_EXPORTER_OTLP_HEADERS', envString('OTEL_EXPORTER_OTLP_HEADERS')) ?? {}
  const envTracesHeaders =
    parseKeyValueList('OTEL_EXPORTER_OTLP_TRACES_HEADERS', envString('OTEL_EXPORTER_OTLP_TRACES_HEADERS')) ?? {}
  const headers: Record<string, string> = {}
  for (const source of [envHeaders, envTracesHeaders, options.headers ?? {}]) {
    for (const [key, value] of Object.entries(source)) headers[key.toLowerCase()] = String(value)
  }
  const tls = url.protocol === 'https:' ? resolveTls(options) : {}
  const config: OtlpExporterConfig = {
    url,
    protocol: protocol as OtlpProtocol,
    headers,
    compression: compression as 'gzip' | 'none',
    // OTLP exporter spec: 0 means no limit; the batch processor's export timeout still bounds it
    timeoutMs: timeoutMs === 0 ? 2_147_483_647 : timeoutMs > 0 ? timeoutMs : 10_000,
    tls: { ca: tls.ca !== undefined, clientCertificate: tls.cert !== undefined },
  }
  return { config, tls }
}

/**
 * OTLP exporter spec: CERTIFICATE (trusted CAs), CLIENT_KEY and CLIENT_CERTIFICATE (mTLS) are PEM
 * file paths; the option wins, then the TRACES_ variable, then the generic one. A file that cannot
 * be read or used is warned about (TL_ERR_OTLP_CERTIFICATE) and left out: exporting goes on
 * without it (system CAs, no client certificate), which fails loudly if the receiver needs it.
 */
function resolveTls(options: OtlpExporterOptions): TlsMaterial {
  // one warning for all problems: warnings repeat at most once a minute per code
  const problems: string[] = []
  const pick = (option: string | undefined, optionName: string, suffix: string) => {
    if (option !== undefined) return { path: option, source: `the ${optionName} option` }
    for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
      const path = envString(name)
      if (path !== undefined) return { path, source: name }
    }
    return undefined
  }
  const read = (from: { path: string; source: string } | undefined, what: string): Buffer | undefined => {
    if (!from) return undefined
    try {
      const pem = readFileSync(from.path)
      if (!pem.includes('-----BEGIN ')) throw new Error('no PEM block in it')
      return pem
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      problems.push(`${from.source} "${from.path}" (${what}) could not be read: ${reason}`)
      return undefined
    }
  }
  const given = options.tls ?? {}
  const caFrom = pick(options.certificate, 'certificate', 'CERTIFICATE')
  const keyFrom = pick(options.clientKey, 'clientKey', 'CLIENT_KEY')
  const certFrom = pick(options.clientCertificate, 'clientCertificate', 'CLIENT_CERTIFICATE')
  const tls: TlsMaterial = {
    ca: given.ca ?? read(caFrom, 'trusted CA certificates'),
    key: given.key ?? read(keyFrom, 'mTLS client key'),
    cert: given.cert ?? read(certFrom, 'mTLS client certificate'),
  }
  const check = (material: TlsMaterial, what: string): boolean => {
    try {
      createSecureContext(material)
      return true
    } catch (error) {
      problems.push(`the ${what} could not be used: ${(error as Error).message}`)
      return false
    }
  }
  if (tls.ca !== undefined && !check({ ca: tls.ca }, `trusted CA certificate (${caFrom?.source ?? 'tls.ca'})`)) {
    tls.ca = undefined
  }
  if ((tls.key === undefined) !== (tls.cert === undefined)) {
    if (keyFrom || certFrom || given.key || given.cert) {
      problems.push(
        `mTLS needs both a client key and a client certificate; only the ${tls.key ? 'key' : 'certificate'} is usable`,
      )
    }
    tls.key = undefined
    tls.cert = undefined
  } else if (
    tls.key !== undefined &&
    !check(
      { key: tls.key, cert: tls.cert },
      `mTLS client key and certificate (${keyFrom?.source ?? 'tls.key'}, ${certFrom?.source ?? 'tls.cert'})`,
    )
  ) {
    tls.key = undefined
    tls.cert = undefined
  }
  for (const k of ['ca', 'key', 'cert'] as const) if (tls[k] === undefined) delete tls[k]
  if (problems.length > 0) {
    diag.warn(
      'TL_ERR_OTLP_CERTIFICATE',
      `${problems.join('; ')}; the OTLP exporter goes on without what it could not use`,
    )
  }
  return tls
}

function resolveUrl(options: OtlpExporterOptions): URL {
  const candidates: Array<[string | undefined, boolean, string]> = [
    [options.url, false, 'the url option'],
    [options.endpoint, true, 'the endpoint option'],
    [envString('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'), false, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [envString('OTEL_EXPORTER_OTLP_ENDPOINT'), true, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  ]
  for (const [value, appendPath, source] of candidates) {
    if (value === undefined) continue
    try {
      const url = new URL(appendPath ? `${value.replace(/\/+$/, '')}/v1/traces` : value)
      if (url.protocol === 'http:' || url.protocol === 'https:') return url
      diag.warn('TL_ERR_OTLP_ENDPOINT', `${source} "${value}" is not an http(s) URL; ignored`)
    } catch {
      diag.warn('TL_ERR_OTLP_ENDPOINT', `${source} "${value}" is not a valid URL; ignored`)
    }
  }
  return new URL(`${DEFAULT_OTLP_ENDPOINT}/v1/traces`)
}

/**
 * OTLP/HTTP §Partial Success: a 2xx response may say some spans were rejected; that is not
 * retried, but the user should know. Protobuf: ExportTraceServiceResponse.partial_success (1)
 * {rejected_spans (1), error_message (2)}; JSON: {"partialSuccess":{"rejectedSpans","errorMessage"}}.
 */
export function partialSuccessOf(
  body: Buffer,
  contentType: string | undefined,
): { rejectedSpans: number; errorMessage: string } | undefined {
  if (contentType?.includes('json')) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as {
        partialSuccess?: { rejectedSpans?: number | string; errorMessage?: string }
      }
      const p = parsed?.partialSuccess
      if (!p) return undefined
      const rejectedSpans = Number(p.rejectedSpans ?? 0)
      const errorMessage = typeof p.errorMessage === 'string' ? p.errorMessage : ''
      return rejectedSpans > 0 || errorMessage ? { rejectedSpans, errorMessage } : undefined
    } catch {
      return undefined
    }
  }
  let pos = 0
  const varint = (): number => {
    let value = 0
    let scale = 1
    for (let i = 0; i < 10 && pos < body.length; i++) {
      const b = body[pos++] as number
      value += (b & 0x7f) * scale
      if (b < 0x80) return value
      scale *= 128
    }
    throw new Error('truncated')
  }
  try {
    while (pos < body.length) {
      const tag = varint()
      if (tag !== 0x0a) return undefined // only field 1, length-delimited, is expected
      const end = pos + varint()
      let rejectedSpans = 0
      let errorMessage = ''
      while (pos < end) {
        const t = varint()
        if (t === 0x08) rejectedSpans = varint()
        else if (t === 0x12) {
          const length = varint()
          errorMessage = body.toString('utf8', pos, pos + length)
          pos += length
        } else return undefined
      }
      return rejectedSpans > 0 || errorMessage ? { rejectedSpans, errorMessage } : undefined
    }
  } catch {
    return undefined
  }
  return undefined
}

function warnOnPartialSuccess(body: Buffer, contentType: string | undefined): void {
  const partial = partialSuccessOf(body, contentType)
  if (partial) {
    diag.warn(
      'TL_ERR_OTLP_PARTIAL_SUCCESS',
      `the OTLP receiver rejected ${partial.rejectedSpans} span(s)${partial.errorMessage ? `: ${partial.errorMessage}` : ''}`,
    )
  }
}

/** Sends spans to an OTLP/HTTP receiver: the Threadline viewer, Jaeger, Tempo, an OTel Collector… */
export class OtlpExporter implements SpanExporter {
  readonly config: OtlpExporterConfig
  private readonly transport: HttpTransport
  private readonly pending = new Set<Promise<ExportResult>>()
  private stopped = false

  constructor(options: OtlpExporterOptions = {}) {
    const settings = resolveOtlpSettings(options)
    this.config = settings.config
    const headers: Record<string, string> = {
      'user-agent': `threadline-core/${VERSION}`,
      ...this.config.headers,
      'content-type': this.config.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
    }
    if (this.config.compression === 'gzip') headers['content-encoding'] = 'gzip'
    this.transport = new HttpTransport({
      url: this.config.url,
      headers,
      timeoutMs: this.config.timeoutMs,
      onSuccess: warnOnPartialSuccess,
      tls: settings.tls,
      ...options.retry,
    })
  }

  export(spans: readonly ReadableSpan[], signal?: AbortSignal): Promise<ExportResult> {
    if (this.stopped) {
      return Promise.resolve({ ok: false, error: new Error('the OTLP exporter is shut down'), retryable: false })
    }
    if (spans.length === 0) return Promise.resolve(EXPORT_OK)
    const done = this.send(spans, signal).finally(() => this.pending.delete(done))
    this.pending.add(done)
    return done
  }

  private async send(spans: readonly ReadableSpan[], signal: AbortSignal | undefined): Promise<ExportResult> {
    let body: Uint8Array | string
    try {
      body = this.config.protocol === 'http/json' ? encodeTraceRequestJsonBytes(spans) : encodeTraceRequest(spans)
      if (this.config.compression === 'gzip') body = await gzipAsync(body)
    } catch (error) {
      return { ok: false, error: new Error(`could not encode spans for OTLP: ${String(error)}`), retryable: false }
    }
    return this.transport.send(body, signal)
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.pending)
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.forceFlush()
    this.transport.close()
  }
}
