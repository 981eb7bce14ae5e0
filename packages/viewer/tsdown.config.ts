import { defineConfig } from 'tsdown'

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    clean: true,
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
  },
])
