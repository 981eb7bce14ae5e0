// An Express service traced by the AWS X-Ray SDK (aws-xray-sdk-express segments, outgoing calls
// through the SDK's captured `http`) and a UDP listener on 127.0.0.1 standing in for the X-Ray
// daemon: both the SDK and Threadline's X-Ray exporter send their documents there.
import dgram from 'node:dgram'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import AWSXRay from 'aws-xray-sdk-core'
import xrayExpress from 'aws-xray-sdk-express'
import express from 'express'

/** A document as the daemon receives it: the header line, then the segment or subsegment. */
export interface DaemonDocument {
  header: { format: string; version: number }
  doc: XrayDocument
}

export interface XrayDocument {
  name: string
  id: string
  trace_id?: string
  parent_id?: string
  type?: string
  start_time: number
  end_time?: number
  namespace?: string
  http?: { request?: Record<string, unknown>; response?: Record<string, unknown> }
  subsegments?: XrayDocument[]
  fault?: boolean
  error?: boolean
  annotations?: Record<string, unknown>
  metadata?: Record<string, unknown>
  [key: string]: unknown
}

export interface DaemonListener {
  address: string
  received: DaemonDocument[]
  close(): Promise<void>
}

export async function startDaemonListener(): Promise<DaemonListener> {
  const socket = dgram.createSocket('udp4')
  const received: DaemonDocument[] = []
  socket.on('message', (message) => {
    const text = message.toString('utf8')
    const newline = text.indexOf('\n')
    received.push({ header: JSON.parse(text.slice(0, newline)), doc: JSON.parse(text.slice(newline + 1)) })
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}

/** Every segment and subsegment, nested ones flattened (with their enclosing segment's trace id). */
export function flatten(docs: readonly DaemonDocument[]): XrayDocument[] {
  const out: XrayDocument[] = []
  const walk = (d: XrayDocument, traceId: string | undefined, parentId: string | undefined) => {
    out.push({ ...d, trace_id: d.trace_id ?? traceId, parent_id: d.parent_id ?? parentId })
    for (const sub of d.subsegments ?? []) walk(sub, d.trace_id ?? traceId, d.id)
  }
  for (const { doc } of docs) walk(doc, doc.trace_id, undefined)
  return out
}

export interface XrayServiceOptions {
  name: string
  daemonAddress: string
  /** Where `/start` and `/mid` call next. */
  next: (path: '/start' | '/mid', req: express.Request) => string
  onMid?: (req: express.Request) => void
}

/** `/start` opens a new X-Ray trace, `/mid` continues the caller's; both call `next(path)` through the SDK's captured http. */
export function xrayService(options: XrayServiceOptions): express.Express {
  AWSXRay.setDaemonAddress(options.daemonAddress)
  AWSXRay.setContextMissingStrategy('IGNORE_ERROR')
  AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} })
  AWSXRay.middleware.disableCentralizedSampling()
  // sample every request that arrives without a decision (the default local rule keeps 1/s + 5%)
  AWSXRay.middleware.setSamplingRules({ version: 2, rules: [], default: { fixed_target: 0, rate: 1 } })
  const tracedHttp = AWSXRay.captureHTTPs(http, false)
  const app = express()
  app.use(xrayExpress.openSegment(options.name))
  app.get(['/start', '/mid'], (req, res) => {
    const path = req.path as '/start' | '/mid'
    if (path === '/mid') options.onMid?.(req)
    tracedHttp
      .get(options.next(path, req), (upstream) => {
        let body = ''
        upstream.setEncoding('utf8')
        upstream.on('data', (chunk: string) => {
          body += chunk
        })
        upstream.on('end', () => res.status(upstream.statusCode ?? 502).send(body))
      })
      .on('error', (error) => res.status(502).send(String(error)))
  })
  app.use(xrayExpress.closeSegment())
  return app
}
