// Checks every published package the way its users will load it: publint (package.json fields,
// exports, files) and @arethetypeswrong/cli (types for import and require under node16 and
// bundler resolution). Run after the build; packs with --ignore-scripts so dist is used as built.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const bin = (name) => join(process.cwd(), 'node_modules', '.bin', name)
let failures = 0
for (const dir of readdirSync('packages')) {
  const pkgDir = join('packages', dir)
  let pkg
  try {
    pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
  } catch {
    continue
  }
  if (pkg.private) continue
  const out = mkdtempSync(join(tmpdir(), 'threadline-pack-'))
  try {
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', out], {
      cwd: pkgDir,
      encoding: 'utf8',
    }).trim()
    const path = join(out, tarball.split('\n').pop())
    for (const [tool, args] of [
      ['publint', [path, '--strict']],
      ['attw', [path, '--profile', 'node16', '--format', 'table-flipped']],
    ]) {
      const result = spawnSync(bin(tool), args, { encoding: 'utf8' })
      const ok = result.status === 0
      if (!ok) failures++
      console.log(`${ok ? '✓' : '✗'} ${tool} ${pkg.name}`)
      if (!ok) console.log(result.stdout, result.stderr)
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}
process.exit(failures ? 1 : 0)
