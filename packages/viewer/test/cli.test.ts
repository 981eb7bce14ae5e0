/**
 * The `threadline` command as users run it (the built `dist/cli.mjs`; `npm test` builds first):
 * start-up lines, --help, clear errors, env settings, SIGTERM, and the SQLite ack guarantee —
 * a span answered with 200 survives `kill -9` of the viewer.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore } from '../src/index.js'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.mjs')
const dir = mkdtempSync(join(tmpdir(), 'threadline-cli-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

const RANDOM_PORTS = ['--otlp-http-port', '0', '--otlp-grpc-port', '0', '--zipkin-port', '0', '--ui-port', '0']

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Starts the CLI and resolves with its printed addresses once it is listening. */
function start(args: string[]): Promise<{ child: ChildProcess; urls: Record<string, string> }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      out += chunk
      if (out.includes('store')) {
        const urls: Record<string, string> = {}
        for (const [, name, url] of out.matchAll(/^ {2}(UI and query API|OTLP\/HTTP|OTLP\/gRPC|Zipkin)\s+(\S+)$/gm))
          urls[name!] = url!
        resolve({ child, urls })
      }
    })
    child.on('exit', (code) => reject(new Error(`threadline exited with ${code} before listening: ${out}`)))
  })
}

describe('threadline CLI', () => {
  it('is built (npm test runs the build first)', () => {
    expect(existsSync(cli), `${cli} is missing: run npx tsdown in packages/viewer`).toBe(true)
  })

  it('prints every address on start and stops cleanly on SIGTERM', async () => {
    const { child, urls } = await start(RANDOM_PORTS)
    expect(urls['UI and query API']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(urls['OTLP/HTTP']).toMatch(/\/v1\/traces$/)
    expect(urls['Zipkin']).toMatch(/\/api\/v2\/spans$/)
    const services = await fetch(new URL('/api/v1/services', urls['UI and query API']))
    expect(await services.json()).toEqual({ services: [] })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('prints help and the version', () => {
    const help = run(['--help'])
    expect(help.code).toBe(0)
    for (const flag of [
      '--host',
      '--otlp-http-port',
      '--otlp-grpc-port',
      '--zipkin-port',
      '--ui-port',
      '--store',
      '--max-spans',
      '--retention',
      '--token',
      '--quiet',
      'THREADLINE_TOKEN',
    ]) {
      expect(help.stdout).toContain(flag)
    }
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('explains bad flags, bad env values, unknown commands and a missing token', () => {
    const badPort = run(['--ui-port', 'abc'])
    expect(badPort.code).toBe(1)
    expect(badPort.stderr).toContain("'--ui-port <port>' argument 'abc' is invalid")
    const badEnv = run([], { THREADLINE_MAX_SPANS: 'lots' })
    expect(badEnv.code).toBe(1)
    expect(badEnv.stderr).toContain('positive integer')
    expect(run(['--retention', 'forever']).stderr).toContain('24h')
    expect(run(['--bogus']).stderr).toContain("unknown option '--bogus'")
    expect(run(['stop']).stderr).toContain('unknown command "stop"')
    const open = run(['--host', '0.0.0.0', ...RANDOM_PORTS])
    expect(open.code).toBe(1)
    expect(open.stderr).toContain('TL_ERR_VIEWER_TOKEN_REQUIRED')
  })

  it('with --quiet prints only the UI address', async () => {
    const child = spawn(process.execPath, [cli, '--quiet', ...RANDOM_PORTS], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    const line = await new Promise<string>((resolve) => {
      child.stdout!.setEncoding('utf8')
      child.stdout!.once('data', (chunk: string) => resolve(chunk))
    })
    expect(line.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    child.kill('SIGTERM')
  })

  it('SQLite store: a span acknowledged with 200 is on disk when the viewer is killed with SIGKILL', async () => {
    const db = join(dir, 'crash.db')
    const { child, urls } = await start(['--store', db, ...RANDOM_PORTS])
    const spans = Array.from({ length: 50 }, (_, i) => ({
      traceId: 'c'.repeat(30) + String(i).padStart(2, '0'),
      spanId: `${String(i + 1).padStart(2, '0')}${'d'.repeat(14)}`,
      name: `op ${i}`,
      startTimeUnixNano: `${Date.now()}000000`,
      endTimeUnixNano: `${Date.now() + 5}000000`,
    }))
    const response = await fetch(urls['OTLP/HTTP']!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'durable' } }] },
            scopeSpans: [{ spans }],
          },
        ],
      }),
    })
    expect(response.status).toBe(200)
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGKILL')
    await exited
    const store = new SqliteStore({ path: db })
    try {
      expect(store.stats()).toMatchObject({ spans: 50, traces: 50 })
      expect(store.services()).toEqual(['durable'])
    } finally {
      await store.close()
    }
  })
})
