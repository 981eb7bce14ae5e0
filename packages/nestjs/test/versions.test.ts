// The lifecycle tests (lifecycle.ts) on every older Nest major the peer range names: each copy of
// lifecycle.ts loads Nest, rxjs and the adapter's source against that major's fixture.
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { fixtureDir, NEST_MAJORS } from './nest-versions.js'

type Lifecycle = typeof import('./lifecycle.js')

for (const major of NEST_MAJORS) {
  const copy = `./lifecycle.js?nest=${major}`
  const lifecycle: Lifecycle = await import(/* @vite-ignore */ copy)

  describe(`Nest ${major}`, () => {
    lifecycle.useTracing()

    it(`runs on @nestjs/core ${major}.x from the fixture`, () => {
      const fixture = createRequire(`${fixtureDir(major)}package.json`)
      const core = fixture('@nestjs/core') as { NestFactory: unknown }
      expect(fixture('@nestjs/core/package.json').version).toMatch(new RegExp(`^${major}\\.`))
      expect(lifecycle.NestFactory).toBe(core.NestFactory)
    })

    lifecycle.describeLifecycle()
    lifecycle.describePipelineSpans()
  })
}
