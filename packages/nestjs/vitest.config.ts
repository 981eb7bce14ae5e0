import { defineProject } from 'vitest/config'
import { nestVersions } from './test/nest-versions.js'

export default defineProject({
  // versions.test.ts loads copies of the tests against Nest 10 and 11 (test/nest<major>-fixture)
  plugins: [nestVersions()],
  resolve: { conditions: ['@threadline/source'] },
  ssr: { resolve: { conditions: ['@threadline/source'] } },
  // Nest's decorators are legacy (experimental) ones. The test apps name their injection tokens
  // with @Inject(): type metadata of imported classes depends on the transform's import elision.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    name: 'nestjs',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // installs the Nest 10 and 11 fixtures on a fresh clone (npm, ~30 s once)
    globalSetup: ['test/install-nest-fixtures.ts'],
    testTimeout: 20_000,
  },
})
