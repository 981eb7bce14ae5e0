// The smallest traced program: a fake "checkout" request with nested work, printed as a tree.
// Run it with `npm run demo` from the repository root (or `node index.mjs` here after a build).
import { setTimeout as sleep } from 'node:timers/promises'
import { ConsoleExporter, init, logFields, SpanKind, shutdown, trace } from '@threadline/core'

init({ serviceName: 'hello', exporter: new ConsoleExporter() })

await trace(
  'POST /checkout',
  async (request) => {
    request.setAttribute('http.request.method', 'POST')
    console.log('log line with trace ids:', JSON.stringify(logFields()))
    await trace('load cart', () => sleep(5), { kind: SpanKind.CLIENT })
    await Promise.all([
      trace('reserve stock', () => sleep(12), { kind: SpanKind.CLIENT }),
      trace('price items', () => sleep(8)),
    ])
    await trace('charge card', async () => {
      await sleep(3)
      throw new Error('card declined')
    }).catch(() => request.setAttribute('http.response.status_code', 402))
  },
  { kind: SpanKind.SERVER },
)

await shutdown()
