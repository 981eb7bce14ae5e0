import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  // each file starts its own PostgreSQL (about 1.5 s), so files run in parallel and tests get time
  test: { name: 'pg', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
})
