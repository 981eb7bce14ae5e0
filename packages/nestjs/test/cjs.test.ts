import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const dist = fileURLToPath(new URL('../dist/index.cjs', import.meta.url))
const app = fileURLToPath(new URL('./fixtures/cjs-app.cjs', import.meta.url))

// `npm test` builds before testing; a bare `vitest run` without a build skips this one.
it.skipIf(!existsSync(dist))('a CommonJS application requires the built package (Express and Fastify)', () => {
  const result = spawnSync(process.execPath, [app], { encoding: 'utf8', timeout: 15_000 })
  expect(result.stderr).toBe('')
  expect(JSON.parse(result.stdout)).toEqual([
    ['CatsController.load', 'GET /cats/:id'],
    ['CatsController.load', 'GET /cats/:id'],
  ])
})
