import { startViewer, type Viewer, type ViewerOptions } from '../src/index.js'

/** A viewer on 127.0.0.1 with every port picked by the OS. */
export function startTestViewer(options: ViewerOptions = {}): Promise<Viewer> {
  return startViewer({ otlpHttpPort: 0, otlpGrpcPort: 0, zipkinPort: 0, uiPort: 0, ...options })
}

export async function getJson<T = Record<string, unknown>>(
  viewer: Viewer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${viewer.ports.ui}${path}`, { headers })
  return { status: response.status, body: (await response.json()) as T }
}

export interface ApiSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  service: string
  name: string
  kind: string
  startUs: number
  durationUs: number
  error: boolean
  status: { code: string; message?: string }
  attributes: Record<string, unknown>
  events: { name: string; timeUs: number; attributes: Record<string, unknown> }[]
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[]
  resource: Record<string, unknown>
  scope?: { name: string; version?: string }
}

export async function getTrace(viewer: Viewer, traceId: string): Promise<ApiSpan[]> {
  const { status, body } = await getJson<{ spans: ApiSpan[] }>(viewer, `/api/v1/traces/${traceId}`)
  if (status !== 200) throw new Error(`trace ${traceId}: HTTP ${status}`)
  return body.spans
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing fuzz case can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function hex(rand: () => number, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += Math.floor(rand() * 16).toString(16)
  return out.replace(/^0/, '1')
}
