import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  test: {
    name: 'viewer-ui',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // browser assertions wait for the page (polling), never for a fixed time
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
})
