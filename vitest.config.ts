import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // workspace packages are tested from source (see the "@threadline/source" export condition)
    conditions: ['@threadline/source'],
  },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  test: {
    projects: ['packages/*', 'examples/*', 'test/*'],
  },
})
