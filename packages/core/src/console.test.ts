import { afterEach, describe, expect, it } from 'vitest'
import { trace } from './api.js'
import { ConsoleExporter } from './export/console.js'
import { init, shutdown } from './sdk.js'
import { SpanKind } from './span.js'

afterEach(() => shutdown())

describe('ConsoleExporter', () => {
  it('prints one indented tree per trace with kinds, durations and errors', async () => {
    let out = ''
    init({ serviceName: 'shop', exporter: new ConsoleExporter({ write: (t) => (out += t) }), propagators: ['none'] })
    await trace(
      'GET /orders/:id',
      async () => {
        trace('SELECT orders', () => {}, { kind: SpanKind.CLIENT })
        await trace('price items', async () => {
          trace('POST', () => {}, { kind: SpanKind.CLIENT })
        })
        try {
          trace('validate', () => {
            throw new Error('bad id')
          })
        } catch {}
      },
      { kind: SpanKind.SERVER },
    )
    await shutdown()
    const lines = out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^trace [0-9a-f]{32} \(shop\)$/)
    expect(lines[1]).toMatch(/^└─ GET \/orders\/:id \[server\] \d+\.\d ms$/)
    expect(lines[2]).toMatch(/^ {3}├─ SELECT orders \[client\] \d+\.\d ms$/)
    expect(lines[3]).toMatch(/^ {3}├─ price items \d+\.\d ms$/)
    expect(lines[4]).toMatch(/^ {3}│ {2}└─ POST \[client\] \d+\.\d ms$/)
    expect(lines[5]).toMatch(/^ {3}└─ validate \d+\.\d ms ✗ bad id$/)
  })
})
