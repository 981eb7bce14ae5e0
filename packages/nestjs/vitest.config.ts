import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  // Nest's decorators are legacy (experimental) ones. The test apps name their injection tokens
  // with @Inject(): type metadata of imported classes depends on the transform's import elision.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: { name: 'nestjs', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 20_000 },
})
