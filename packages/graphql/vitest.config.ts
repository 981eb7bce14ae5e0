import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  // test/nestjs.test.ts: Nest's decorators are legacy (experimental) ones
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    name: 'graphql',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/install-apollo-fixture.ts'],
    testTimeout: 20_000,
    // embedded PostgreSQL initialises in ~1 s, much longer on a busy CI machine
    hookTimeout: 60_000,
  },
})
