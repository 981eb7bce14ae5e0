// Packs @threadline/core as npm would publish it, installs the tarball into a fresh app outside the
// workspace, and uses it the three ways users do: ESM import, CommonJS require, and TypeScript
// with `moduleResolution: node16` (both the ESM and the CJS flavour of the types).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const root = resolve(pkgDir, '../..')
const node = process.execPath
// npm runs on whatever Node is first on PATH; run it with the test's own Node for consistency.
const npmCli = join(dirname(node), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
let app: string

function npm(args: string[], cwd: string): string {
  const env = {
    ...process.env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  }
  try {
    return execFileSync(node, [npmCli, ...args], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch {
    return execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  }
}

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'threadline-pack-'))
  // prepack builds dist, so this works on a clean checkout too
  npm(['pack', '--pack-destination', app], pkgDir)
  const tarball = readdirSync(app).find((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error('npm pack produced no tarball')
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
  npm(['install', '--offline', '--no-package-lock', `./${tarball}`], app)
}, 120_000)

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true })
})

const program = (load: string) => `${load}
const { init, trace, shutdown, MemoryExporter, VERSION } = core
const exporter = new MemoryExporter()
init({ serviceName: 'packed', exporter, batch: false, propagators: ['none'] })
trace('outer', () => trace('inner', () => {}))
const names = exporter.getFinishedSpans().map((s) => s.name).join(',')
const tree = exporter.trees()[0]
console.log(JSON.stringify({ names, root: tree.span.name, child: tree.children[0].span.name, version: VERSION }))
shutdown()
`

describe('the published package', () => {
  it('ships only dist, README and package.json', () => {
    const files = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], pkgDir))[0].files.map(
      (f: { path: string }) => f.path,
    )
    expect(files).toContain('package.json')
    expect(files).toContain('dist/index.mjs')
    expect(files).toContain('dist/index.cjs')
    expect(files).toContain('dist/index.d.mts')
    expect(files).toContain('dist/index.d.cts')
    expect(files.filter((f: string) => f.startsWith('src/'))).toEqual([])
  })

  it('works with import from an .mjs file', () => {
    writeFileSync(join(app, 'esm.mjs'), program(`import * as core from '@threadline/core'`))
    const out = JSON.parse(execFileSync(node, ['esm.mjs'], { cwd: app, encoding: 'utf8' }))
    expect(out).toMatchObject({ names: 'inner,outer', root: 'outer', child: 'inner' })
  })

  it('works with require from a .cjs file', () => {
    writeFileSync(join(app, 'cjs.cjs'), program(`const core = require('@threadline/core')`))
    const out = JSON.parse(execFileSync(node, ['cjs.cjs'], { cwd: app, encoding: 'utf8' }))
    expect(out).toMatchObject({ names: 'inner,outer', root: 'outer', child: 'inner' })
  })

  it('shares one active context between the ESM and CJS builds in one process', () => {
    writeFileSync(
      join(app, 'dual.mjs'),
      `import { createRequire } from 'node:module'
import * as esm from '@threadline/core'
const cjs = createRequire(import.meta.url)('@threadline/core')
esm.init({ exporter: new esm.MemoryExporter(), batch: false, propagators: ['none'] })
esm.trace('outer', (span) => console.log(cjs.activeSpan() === span))`,
    )
    expect(execFileSync(node, ['dual.mjs'], { cwd: app, encoding: 'utf8' }).trim()).toBe('true')
  })

  it('type-checks from TypeScript with moduleResolution node16 (ESM and CJS)', () => {
    const source = `import { init, trace, type Span, SpanKind } from '@threadline/core'
init({ serviceName: 'typed' })
const n: number = trace('typed', (span: Span) => { span.setAttribute('k', 1); return 1 }, { kind: SpanKind.SERVER })
// @ts-expect-error: attributes are primitives or arrays of them
trace('bad', (span) => span.setAttribute('k', { nested: true }))
export { n }
`
    writeFileSync(join(app, 'typed.mts'), source)
    writeFileSync(join(app, 'typed.cts'), source.replace('export { n }', 'export = n'))
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['typed.mts', 'typed.cts'],
      }),
    )
    const tsc = join(root, 'node_modules', '.bin', 'tsc')
    let output = ''
    try {
      output = execFileSync(tsc, ['-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(output).toBe('')
  })
})
