// vitest globalSetup: installs the Nest 10 and 11 fixtures (see nest-versions.ts) on a fresh clone,
// and again when a fixture's package.json or lockfile changed since its last install.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync, utimesSync } from 'node:fs'
import { fixtureDir, NEST_MAJORS } from './nest-versions.js'

export default async function setup(): Promise<void> {
  await Promise.all(NEST_MAJORS.map((major) => install(major)))
}

async function install(major: number): Promise<void> {
  const dir = fixtureDir(major)
  if (installed(dir)) return
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const child = spawn(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts'], {
    stdio: 'inherit',
  })
  const status = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null))
    child.on('close', resolve)
  })
  if (status !== 0) throw new Error(`installing the Nest ${major} fixture failed; run: npm install --prefix ${dir}`)
  // npm leaves its record alone when there was nothing to do: date it now, or this runs every time
  const now = new Date()
  if (existsSync(record(dir))) utimesSync(record(dir), now, now)
}

/** Every dependency is in node_modules, and npm's record of the install is newer than the manifests. */
function installed(dir: string): boolean {
  if (!existsSync(record(dir))) return false
  const since = statSync(record(dir)).mtimeMs
  for (const file of ['package.json', 'package-lock.json']) {
    if (existsSync(dir + file) && statSync(dir + file).mtimeMs > since) return false
  }
  const { dependencies = {} } = JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as {
    dependencies?: Record<string, string>
  }
  return Object.keys(dependencies).every((name) => existsSync(`${dir}node_modules/${name}/package.json`))
}

const record = (dir: string) => `${dir}node_modules/.package-lock.json`
