import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types
import { versionConstants } from '../../../scripts/sync-version.mjs'

describe('package versions', () => {
  it('every VERSION constant (the instrumentation scope version) matches its package.json', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
    const found = versionConstants(root) as Array<{ file: string; constant: string; version: string }>
    expect(found.length).toBeGreaterThanOrEqual(7)
    expect(found.filter((f) => f.constant !== f.version)).toEqual([])
  })
})
