/**
 * The whole pipeline against a dead backend: a traced HTTP app ends 50 000 spans while the OTLP
 * endpoint refuses every connection. Checked: every app request succeeds, the batch queue never
 * exceeds its bound, dropped spans are counted (and warned about once per interval), and the
 * heap after a forced GC does not grow with the number of spans.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { startSpan, trace } from '../src/api.js'
import { setDiagLogger } from '../src/diag.js'
import { OtlpExporter } from '../src/export/otlp.js'
import { BatchSpanProcessor } from '../src/processor.js'
import { init, shutdown } from '../src/sdk.js'
import { stats } from '../src/stats.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as (() => void) | undefined

async function freePort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

const SPANS_PER_REQUEST = 10
const REQUESTS = 5000
const MAX_QUEUE = 2048

describe('batch processor + OTLP exporter into a dead endpoint', () => {
  const servers: http.Server[] = []
  afterAll(async () => {
    await shutdown(200)
    setDiagLogger(undefined)
    for (const s of servers) await new Promise((r) => s.close(r))
  })

  it('keeps the app healthy, the queue bounded and the heap flat over 50k spans', async () => {
    const warnings: string[] = []
    setDiagLogger((_level, code) => warnings.push(code), 'warn')
    const dead = await freePort()
    const processor = new BatchSpanProcessor(
      new OtlpExporter({ endpoint: `http://127.0.0.1:${dead}`, timeoutMs: 300, retry: { initialBackoffMs: 20 } }),
      { maxQueueSize: MAX_QUEUE, maxExportBatchSize: 512, scheduledDelayMs: 20, exportTimeoutMs: 1000 },
    )
    init({ serviceName: 'app', spanProcessors: [processor], instrument: { fetch: false, http: false } })

    const app = http.createServer((_req, res) =>
      trace('handle', async () => {
        for (let i = 0; i < SPANS_PER_REQUEST - 1; i++) startSpan(`step ${i}`).setAttribute('step', i).end()
        res.end('ok')
      }),
    )
    servers.push(app)
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
    const port = (app.address() as AddressInfo).port
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
    const get = () =>
      new Promise<number>((resolve) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          })
          .on('error', () => resolve(0))
      })

    let maxQueued = 0
    let statuses: number[] = []
    const heap: number[] = []
    const before = stats()
    for (let done = 0; done < REQUESTS; done += 250) {
      const batch = await Promise.all(Array.from({ length: 250 }, get))
      statuses = statuses.concat(batch)
      maxQueued = Math.max(maxQueued, processor.queued)
      if (done % 1000 === 0 && gc) {
        gc()
        heap.push(process.memoryUsage().heapUsed)
      }
    }
    agent.destroy()
    const after = stats()

    expect(statuses.filter((s) => s !== 200)).toEqual([]) // every request succeeded
    expect(statuses).toHaveLength(REQUESTS)
    expect(after.spansStarted - before.spansStarted).toBe(REQUESTS * SPANS_PER_REQUEST)
    expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUE)
    expect(after.spansExported - before.spansExported).toBe(0)
    expect(after.spansDropped - before.spansDropped).toBeGreaterThan(
      REQUESTS * SPANS_PER_REQUEST - 2 * MAX_QUEUE - 1024,
    )
    // warned, but once per interval per code, not once per span or batch
    expect(warnings.filter((c) => c === 'TL_ERR_QUEUE_FULL').length).toBeLessThanOrEqual(1)
    expect(warnings.filter((c) => c === 'TL_ERR_EXPORT_FAILED').length).toBeLessThanOrEqual(1)
    if (gc) {
      // heap after GC at 10k spans vs at 50k: with 40k more spans dropped, growth stays small
      const growth = (heap.at(-1) as number) - (heap[1] as number)
      expect(growth).toBeLessThan(16 * 1024 * 1024)
    }
  })
})
