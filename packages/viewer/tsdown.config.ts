import { defineConfig } from 'tsdown'

// the shared trace analysis comes from the private @threadline/viewer-ui package: bundle it, so the
// published viewer has no runtime dependency on it
const noExternal = [/^@threadline\/viewer-ui(\/|$)/]

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    clean: true,
    noExternal,
  },
  {
    // the CLI is ESM only: `bin` runs it directly
    entry: ['src/cli.ts'],
    format: ['esm'],
    dts: false,
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    clean: false,
    noExternal,
  },
])
