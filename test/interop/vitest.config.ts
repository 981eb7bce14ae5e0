import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  test: { name: 'interop', include: ['**/*.test.ts'], testTimeout: 30_000 },
})
