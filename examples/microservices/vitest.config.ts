import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  test: {
    name: 'example-microservices',
    include: ['test/**/*.test.ts'],
    // starting PostgreSQL, the viewer and NestJS on a loaded 2-core machine takes a while
    testTimeout: 120_000,
    hookTimeout: 240_000,
    // the demo's services and their ports are shared by the whole file
    fileParallelism: false,
    expect: { poll: { timeout: 30_000, interval: 200 } },
  },
})
