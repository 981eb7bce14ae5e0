import { defineConfig } from 'tsdown'

export default defineConfig({
  // `otlp` is the `@threadline/core/otlp` subpath (OTLP decoders for collectors such as the viewer);
  // `opentelemetry` is the `@threadline/core/opentelemetry` bridge (optional peer @opentelemetry/api)
  entry: { index: 'src/index.ts', otlp: 'src/otlp/index.ts', opentelemetry: 'src/opentelemetry/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  clean: true,
})
