/** Token auth, CORS for the UI's own origin only, DNS-rebinding guard, port errors, static UI serving. */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startViewer, type Viewer } from '../src/index.js'
import { startTestViewer } from './viewer.js'

const TOKEN = 's3cret-token'
let viewer: Viewer
const uiDir = mkdtempSync(join(tmpdir(), 'threadline-ui-'))

beforeAll(async () => {
  mkdirSync(join(uiDir, 'assets'))
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>UI</title>')
  writeFileSync(join(uiDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(tmpdir(), 'threadline-secret.txt'), 'secret')
  viewer = await startTestViewer({ token: TOKEN, uiDir })
})
afterAll(async () => {
  await viewer?.close()
  rmSync(uiDir, { recursive: true, force: true })
})

const span = JSON.stringify({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'auth' } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: '11111111111111111111111111111111',
              spanId: '2222222222222222',
              name: 'x',
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000001000000',
            },
          ],
        },
      ],
    },
  ],
})

function raw(port: number, path: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('token', () => {
  it('is required for OTLP/HTTP and Zipkin ingest', async () => {
    const url = `http://127.0.0.1:${viewer.ports.otlpHttp}/v1/traces`
    const headers = { 'content-type': 'application/json' }
    expect((await fetch(url, { method: 'POST', headers, body: span })).status).toBe(401)
    expect(
      (await fetch(url, { method: 'POST', headers: { ...headers, authorization: 'Bearer wrong' }, body: span })).status,
    ).toBe(401)
    expect(
      (await fetch(url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${TOKEN}` }, body: span }))
        .status,
    ).toBe(200)
    const zipkin = `http://127.0.0.1:${viewer.ports.zipkin}/api/v2/spans`
    expect((await fetch(zipkin, { method: 'POST', headers, body: '[]' })).status).toBe(401)
  })

  it('is required for OTLP/gRPC (authorization metadata)', async () => {
    const client = connect(`http://127.0.0.1:${viewer.ports.otlpGrpc}`)
    const status = await new Promise<unknown>((resolve, reject) => {
      const stream = client.request({
        ':method': 'POST',
        ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        'content-type': 'application/grpc',
      })
      stream.on('response', (h) => resolve(h['grpc-status']))
      stream.on('error', reject)
      stream.end(Buffer.alloc(5))
    })
    client.close()
    expect(status).toBe('16')
  })

  it('is required for the API and UI; ?token= sets a cookie that then works', async () => {
    const base = `http://127.0.0.1:${viewer.ports.ui}`
    expect((await fetch(`${base}/api/v1/services`)).status).toBe(401)
    expect((await fetch(`${base}/`)).status).toBe(401)
    expect((await fetch(`${base}/api/v1/services`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
    const page = await fetch(`${base}/?token=${TOKEN}`)
    expect(page.status).toBe(200)
    const cookie = page.headers.get('set-cookie')!
    expect(cookie).toContain('HttpOnly')
    const api = await fetch(`${base}/api/v1/services`, { headers: { cookie: cookie.split(';')[0]! } })
    expect(await api.json()).toEqual({ services: ['auth'] })
    expect(viewer.urls.ui).toBe(`${base}/?token=${TOKEN}`)
  })

  it('must be given when binding a non-loopback host', async () => {
    await expect(
      startViewer({ host: '0.0.0.0', uiPort: 0, otlpGrpcPort: 0, otlpHttpPort: 0, zipkinPort: 0 }),
    ).rejects.toMatchObject({
      code: 'TL_ERR_VIEWER_TOKEN_REQUIRED',
    })
  })
})

describe('CORS and host checks', () => {
  it("allows only the UI's own origin", async () => {
    const own = `http://127.0.0.1:${viewer.ports.ui}`
    const auth = { authorization: `Bearer ${TOKEN}` }
    const same = await raw(viewer.ports.ui, '/api/v1/services', { ...auth, origin: own })
    expect(same.headers['access-control-allow-origin']).toBe(own)
    const evil = await raw(viewer.ports.ui, '/api/v1/services', { ...auth, origin: 'http://evil.example' })
    expect(evil.headers['access-control-allow-origin']).toBeUndefined()
    const preflight = await raw(
      viewer.ports.otlpHttp,
      '/v1/traces',
      { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    )
    expect(preflight.status).toBe(403)
    const ok = await raw(
      viewer.ports.otlpHttp,
      '/v1/traces',
      { origin: own, 'access-control-request-method': 'POST' },
      'OPTIONS',
    )
    expect(ok.status).toBe(204)
    expect(ok.headers['access-control-allow-origin']).toBe(own)
  })

  it('refuses a foreign Host header on loopback (DNS rebinding)', async () => {
    const r = await raw(viewer.ports.ui, '/api/v1/services', {
      authorization: `Bearer ${TOKEN}`,
      host: 'evil.example:16686',
    })
    expect(r.status).toBe(403)
    const local = await raw(viewer.ports.ui, '/api/v1/services', {
      authorization: `Bearer ${TOKEN}`,
      host: `localhost:${viewer.ports.ui}`,
    })
    expect(local.status).toBe(200)
  })

  it('answers writes to the query API with 405', async () => {
    const r = await raw(viewer.ports.ui, '/api/v1/services', { authorization: `Bearer ${TOKEN}` }, 'DELETE')
    expect(r.status).toBe(405)
  })
})

describe('static UI', () => {
  const get = (path: string) => raw(viewer.ports.ui, path, { authorization: `Bearer ${TOKEN}` })
  it('serves files, falls back to index.html for app routes, never leaves its folder', async () => {
    const index = await get('/')
    expect(index.body).toContain('<title>UI</title>')
    expect(index.headers['content-security-policy']).toContain("default-src 'self'")
    expect(index.headers['x-content-type-options']).toBe('nosniff')
    const asset = await get('/assets/app.js')
    expect(asset.headers['content-type']).toContain('javascript')
    expect(asset.headers['cache-control']).toContain('immutable')
    expect((await get('/trace/abc')).body).toContain('<title>UI</title>')
    expect((await get('/assets/missing.js')).status).toBe(404)
    for (const path of ['/../threadline-secret.txt', '/%2e%2e/threadline-secret.txt', '/..%2fthreadline-secret.txt']) {
      expect((await get(path)).body).not.toContain('secret')
    }
  })

  it('serves a placeholder page when no UI is built', async () => {
    const bare = await startTestViewer({ uiDir: join(uiDir, 'nothing-here') })
    try {
      const page = await fetch(`http://127.0.0.1:${bare.ports.ui}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('/api/v1/services')
    } finally {
      await bare.close()
    }
  })
})

describe('ports', () => {
  it('reports a port in use with TL_ERR_VIEWER_PORT_IN_USE and the flag to change it', async () => {
    await expect(
      startViewer({ otlpHttpPort: viewer.ports.otlpHttp, otlpGrpcPort: 0, zipkinPort: 0, uiPort: 0 }),
    ).rejects.toMatchObject({ code: 'TL_ERR_VIEWER_PORT_IN_USE', message: expect.stringContaining('--otlp-http-port') })
  })
})
