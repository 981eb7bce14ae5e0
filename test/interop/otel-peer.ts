// Starts fixtures/otel-service.cjs (OpenTelemetry JS with instrumentation-http) in a child process
// on the pinned Node, exporting OTLP/HTTP protobuf to `otlpUrl` and calling `nextUrl` from GET /mid.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export interface OtelService {
  url: string
  /** Exports what OpenTelemetry has ended (BatchSpanProcessor.forceFlush). */
  flush(): Promise<void>
  stop(): Promise<void>
}

export async function startOtelService(
  otlpUrl: string,
  nextUrl: string,
  propagator: 'w3c' | 'b3' = 'w3c',
): Promise<OtelService> {
  const fixture = fileURLToPath(new URL('./fixtures/otel-service.cjs', import.meta.url))
  const child = spawn(process.execPath, [fixture, otlpUrl, nextUrl, propagator], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  const url = `http://127.0.0.1:${(JSON.parse(line.toString('utf8')) as { port: number }).port}`
  return {
    url,
    flush: async () => {
      await (await fetch(`${url}/flush`)).text()
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}
