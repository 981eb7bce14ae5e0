import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  // Nest apps in the tests use legacy decorators and constructor injection by type
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: { name: 'nestjs', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 20_000 },
})
