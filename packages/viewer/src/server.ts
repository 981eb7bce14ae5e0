import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FindingCache } from './analysis/findings.js'
import { parseSloOption, type Slo } from './analysis/slo.js'
import { jaegerApi } from './api/jaeger.js'
import { parseDuration } from './api/params.js'
import { queryApi } from './api/query.js'
import { SECURITY_HEADERS, serveUi } from './api/static.js'
import { ViewerError } from './errors.js'
import { createGuard, sendError, sendJson, TOKEN_COOKIE } from './http/guard.js'
import { createOtlpGrpcServer } from './ingest/otlp-grpc.js'
import { otlpHttpHandler } from './ingest/otlp-http.js'
import { IngestSink } from './ingest/sink.js'
import { zipkinHttpHandler } from './ingest/zipkin-http.js'
import { MemoryStore } from './store/memory.js'
import { SqliteStore } from './store/sqlite.js'
import type { Store } from './store/store.js'
import { VERSION } from './version.js'

export interface ViewerOptions {
  /** Interface to bind; default 127.0.0.1. Any non-loopback host requires `token`. */
  host?: string
  /** OTLP/HTTP port (default 4318), OTLP/gRPC (4317), Zipkin (9411), UI and query API (16686); 0 picks a free port. */
  otlpHttpPort?: number
  otlpGrpcPort?: number
  zipkinPort?: number
  uiPort?: number
  /** `'memory'` (default), a path to a SQLite file, or a store instance. */
  store?: 'memory' | string | Store
  /** Span bound of the memory store (default 1,000,000). */
  maxSpans?: number
  /** Drop traces older than this: milliseconds or a duration such as `'24h'`; default: keep (memory), 7d (SQLite). */
  retention?: number | string
  /** Bearer token required by every ingest and UI/API request. */
  token?: string
  /** Largest accepted request body, compressed or not (default 16 MiB). */
  maxBodyBytes?: number
  /**
   * Latency objectives shown on the UI's Operations page: `"GET /orders/:id=200ms@99%"`
   * (`"orders:GET /orders/:id=…"` for one service only) or parsed objects.
   */
  slos?: (string | Slo)[]
  /** Folder of the built web UI; default the package's `dist/ui`. */
  uiDir?: string
  /** Where ingest problems are reported (default: nowhere). */
  log?: (line: string) => void
}

export interface Viewer {
  readonly host: string
  readonly ports: { otlpHttp: number; otlpGrpc: number; zipkin: number; ui: number }
  readonly urls: { otlpHttp: string; otlpGrpc: string; zipkin: string; ui: string }
  readonly store: Store
  /** Spans received, rejected and stored; the same figures as `GET /api/v1/status`. */
  status(): Record<string, unknown>
  close(): Promise<void>
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024
const SEVEN_DAYS_MS = 7 * 86_400_000

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** Starts the collector, store and query API; resolves once every port listens. */
export async function startViewer(options: ViewerOptions = {}): Promise<Viewer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token || undefined
  if (!isLoopback(host) && !token) {
    throw new ViewerError(
      'TL_ERR_VIEWER_TOKEN_REQUIRED',
      `binding ${host} exposes traces to the network; pass --token <secret> (or THREADLINE_TOKEN), or bind 127.0.0.1`,
    )
  }
  const slos = (options.slos ?? []).map((slo) => (typeof slo === 'string' ? parseSloOption(slo) : { ...slo }))
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const log = options.log ?? (() => {})
  const store = openStore(options)
  const retentionMs = retentionOf(options.retention, store.kind === 'sqlite' ? SEVEN_DAYS_MS : undefined)
  const sink = new IngestSink(store, log)
  const ports = { otlpHttp: 0, otlpGrpc: 0, zipkin: 0, ui: 0 }
  const displayHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  const uiOrigins = () => {
    const origins = [`http://${displayHost}:${ports.ui}`]
    if (isLoopback(host))
      origins.push(`http://localhost:${ports.ui}`, `http://127.0.0.1:${ports.ui}`, `http://[::1]:${ports.ui}`)
    return origins
  }
  const guard = createGuard(token, uiOrigins)
  const uiDir = options.uiDir ?? defaultUiDir()
  const startedAt = new Date().toISOString()

  const status = () => ({
    version: VERSION,
    startedAt,
    store: store.kind,
    ...store.stats(),
    receivedSpans: sink.receivedSpans,
    rejectedSpans: sink.rejectedSpans,
    failedRequests: sink.failedRequests,
    retentionMs: retentionMs ?? null,
    ports,
    slos,
  })
  const findings = new FindingCache()

  const otlpHttp = createServer(otlpHttpHandler({ sink, guard, maxBodyBytes }))
  const zipkin = createServer(zipkinHttpHandler({ sink, guard, maxBodyBytes }))
  const grpc = createOtlpGrpcServer({ sink, guard, maxBodyBytes })
  const ui = createServer((req, res) => {
    try {
      handleUi(req, res)
    } catch (error) {
      log(`ui: ${(error as Error).message}`)
      sendError(res, 500, 'internal error')
    }
  })

  function handleUi(req: IncomingMessage, res: ServerResponse): void {
    if (guard.cors(req, res)) return
    if (isLoopback(host) && !hostHeaderIsLocal(req.headers.host)) {
      // DNS rebinding: a page on another site resolving its name to 127.0.0.1 must not read traces
      sendError(res, 403, 'the viewer only answers to localhost / 127.0.0.1 host names', false)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      sendError(res, 405, 'the query API is read-only')
      return
    }
    const url = new URL(req.url ?? '/', 'http://viewer.invalid')
    const path = url.pathname
    if (!guard.authorized(req.headers, url)) {
      if (path.startsWith('/api/')) {
        sendError(res, 401, 'missing or wrong bearer token (Authorization: Bearer <token>)')
        return
      }
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
      res.end('This viewer needs a token: open the URL printed by `threadline`, which ends in ?token=…\n')
      return
    }
    if (token && url.searchParams.get('token') !== null) {
      res.setHeader('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`)
    }
    const answer =
      queryApi(store, { status, findings }, path, url.searchParams) ?? jaegerApi(store, path, url.searchParams)
    if (answer) {
      sendJson(res, answer.status, answer.body, req.headers['accept-encoding'])
      return
    }
    if (path.startsWith('/api/')) {
      sendError(res, 404, `no such endpoint ${path.slice(0, 100)}`)
      return
    }
    serveUi(uiDir, path, res)
  }

  const servers: (Server | Http2Server)[] = []
  try {
    ports.otlpHttp = await listen(otlpHttp, options.otlpHttpPort ?? 4318, host, 'OTLP/HTTP', '--otlp-http-port')
    servers.push(otlpHttp)
    ports.otlpGrpc = await listen(grpc, options.otlpGrpcPort ?? 4317, host, 'OTLP/gRPC', '--otlp-grpc-port')
    servers.push(grpc)
    ports.zipkin = await listen(zipkin, options.zipkinPort ?? 9411, host, 'Zipkin', '--zipkin-port')
    servers.push(zipkin)
    ports.ui = await listen(ui, options.uiPort ?? 16686, host, 'UI', '--ui-port')
    servers.push(ui)
  } catch (error) {
    await Promise.all(servers.map(closeServer))
    await store.close()
    throw error
  }

  let pruning: NodeJS.Timeout | undefined
  if (retentionMs !== undefined) {
    const prune = () => {
      try {
        store.prune((Date.now() - retentionMs) * 1000)
      } catch (error) {
        log(`retention: ${(error as Error).message}`)
      }
    }
    prune()
    pruning = setInterval(prune, Math.min(60_000, Math.max(1000, retentionMs / 10)))
    pruning.unref()
  }

  const base = `http://${displayHost}`
  let closed: Promise<void> | undefined
  return {
    host,
    ports,
    urls: {
      otlpHttp: `${base}:${ports.otlpHttp}/v1/traces`,
      otlpGrpc: `${base}:${ports.otlpGrpc}`,
      zipkin: `${base}:${ports.zipkin}/api/v2/spans`,
      ui: `${base}:${ports.ui}/${token ? `?token=${encodeURIComponent(token)}` : ''}`,
    },
    store,
    status,
    close() {
      closed ??= (async () => {
        if (pruning) clearInterval(pruning)
        await Promise.all(servers.map(closeServer))
        await store.close()
      })()
      return closed
    },
  }
}

function openStore(options: ViewerOptions): Store {
  const store = options.store ?? 'memory'
  if (typeof store !== 'string') return store
  if (store === 'memory') return new MemoryStore({ maxSpans: options.maxSpans })
  return new SqliteStore({ path: store })
}

function retentionOf(value: number | string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined || value === '') return fallback
  if (typeof value === 'number') return value > 0 ? value : undefined
  if (value === '0' || value === 'off') return undefined
  try {
    return parseDuration(value, 'retention', 'h') / 1000
  } catch {
    throw new ViewerError(
      'TL_ERR_VIEWER_OPTION',
      `--retention: expected a duration such as 24h, 90m or 7d, got "${value}"`,
    )
  }
}

function hostHeaderIsLocal(header: string | undefined): boolean {
  if (!header) return true
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]!
  return isLoopback(name)
}

function listen(server: Server | Http2Server, port: number, host: string, what: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE') {
        reject(
          new ViewerError(
            'TL_ERR_VIEWER_PORT_IN_USE',
            `${what} port ${port} on ${host} is already in use; stop the other process or pick another port with ${flag}`,
          ),
        )
      } else if (error.code === 'EACCES') {
        reject(
          new ViewerError(
            'TL_ERR_VIEWER_PORT_DENIED',
            `not allowed to listen on ${host}:${port} (${what}); pick a port above 1024 with ${flag}`,
          ),
        )
      } else {
        reject(new ViewerError('TL_ERR_VIEWER_LISTEN', `cannot listen on ${host}:${port} (${what}): ${error.message}`))
      }
    }
    const onListening = () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function closeServer(server: Server | Http2Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    if ('closeAllConnections' in server) server.closeAllConnections()
  })
}

function defaultUiDir(): string | undefined {
  let here: string
  try {
    here = dirname(fileURLToPath(import.meta.url))
  } catch {
    return undefined
  }
  // published package: dist/ui next to dist/index.mjs; in this repo, the viewer-ui package's build
  const candidates = [join(here, 'ui'), join(here, '..', '..', 'viewer-ui', 'dist')]
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]
}
