import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node22',
  dts: false,
  // dependencies (package.json) stay imports; the decorator helpers the transform emits are bundled
})
