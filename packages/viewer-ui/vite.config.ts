import { defineConfig } from 'vite'

// Static files for the viewer to serve at `/`: one index.html, hashed assets, nothing from the network.
export default defineConfig({
  root: 'src/app',
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
})
