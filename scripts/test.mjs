// The test command (`npm test`): lint, build, type-check, then every package's tests with vitest.
// Tests run on the Node that runs this script, or on THREADLINE_TEST_NODE when set (CI uses that
// to run the same suite on Node 22 as well as the pinned Node 24).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const testNode = process.env.THREADLINE_TEST_NODE || process.execPath
const version = spawnSync(testNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim()
const [major, minor] = version.split('.').map(Number)
if (!(major > 22 || (major === 22 && minor >= 13))) {
  console.error(
    `Threadline needs Node.js 22.13 or newer to test; ${testNode} is ${version || 'not runnable'}.\n` +
      'Run `npm ci && npm test`: npm puts the pinned Node 24 (devDependency "node") first on PATH.\n' +
      'Calling node_modules/.bin/vitest directly, or installing with --ignore-scripts, bypasses it.',
  )
  process.exit(1)
}

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR,
}
const failed = []
// A failing lint or type-check is reported at the end, after the tests ran, so one CI run says everything.
function step(title, cmd, args, { fatal = false } = {}) {
  console.log(`\n▶ ${title}`)
  const result = spawnSync(cmd, args, { stdio: 'inherit', env })
  if (result.status !== 0) {
    console.error(`✗ ${title} failed (exit ${result.status ?? result.signal})`)
    failed.push(title)
    if (fatal) process.exit(result.status || 1)
  }
}

const bin = (name) => join('node_modules', '.bin', name)
step('lint (biome)', bin('biome'), ['check', '.'])
step('build (turbo)', bin('turbo'), ['run', 'build', '--output-logs=errors-only'], { fatal: true })
step('type-check (turbo)', bin('turbo'), ['run', 'typecheck', '--output-logs=errors-only'])
step('packages (publint, arethetypeswrong)', process.execPath, [join('scripts', 'check-packages.mjs')])

console.log(`\n▶ tests (vitest on Node ${version})`)
const out = mkdtempSync(join(tmpdir(), 'threadline-test-'))
const report = join(out, 'vitest.json')
const vitest = spawnSync(
  testNode,
  [
    join('node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env },
)
let summary = ''
try {
  const r = JSON.parse(readFileSync(report, 'utf8'))
  summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`
} catch {
  summary = 'tests: 0 passed, 1 failed (vitest wrote no report)'
}
rmSync(out, { recursive: true, force: true })
console.log(`\nNode ${version}`)
if (failed.length) console.log(`also failed: ${failed.join(', ')}`)
console.log(summary)
process.exit(vitest.status !== 0 ? vitest.status || 1 : failed.length ? 1 : 0)
