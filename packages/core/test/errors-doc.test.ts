import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) sources(path, out)
    else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name)) out.push(path)
  }
  return out
}

describe('docs/errors.md', () => {
  it('lists every TL_ERR_* code the packages emit', () => {
    const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8')
    const codes = new Set<string>()
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const src = join(root, 'packages', pkg, 'src')
      try {
        statSync(src)
      } catch {
        continue
      }
      for (const file of sources(src))
        for (const m of readFileSync(file, 'utf8').matchAll(/['"`](TL_ERR_[A-Z0-9_]+)['"`]/g)) codes.add(m[1]!)
    }
    const missing = [...codes].filter((code) => !doc.includes(`\`${code}\``)).sort()
    expect(missing).toEqual([])
  })
})
