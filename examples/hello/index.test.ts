import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Runs the example as a user would (built packages, plain node) and reads the tree it prints.
describe('examples/hello', () => {
  it('prints its trace as a tree', () => {
    const dir = dirname(fileURLToPath(import.meta.url))
    const out = execFileSync(process.execPath, [join(dir, 'index.mjs')], { encoding: 'utf8' })
    const lines = out.trimEnd().split('\n')
    expect(lines[0]).toMatch(
      /^log line with trace ids: \{"trace_id":"[0-9a-f]{32}","span_id":"[0-9a-f]{16}","trace_flags":"01"\}$/,
    )
    expect(lines[1]).toMatch(/^trace [0-9a-f]{32} \(hello\)$/)
    expect(lines.slice(2).map((l) => l.replace(/ \d+\.\d ms/, ' N ms'))).toEqual([
      '└─ POST /checkout [server] N ms',
      '   ├─ load cart [client] N ms',
      '   ├─ reserve stock [client] N ms',
      '   ├─ price items N ms',
      '   └─ charge card N ms ✗ card declined',
    ])
  })
})
