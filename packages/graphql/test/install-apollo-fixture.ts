// vitest globalSetup: installs the Apollo Server fixture (its own graphql 16) on a fresh clone.
// Apollo Server 5 peers on graphql ^16.11 and cannot be installed next to the root's graphql 17.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const dir = fileURLToPath(new URL('./apollo-fixture/', import.meta.url))
  if (existsSync(`${dir}node_modules/@apollo/server/package.json`)) return
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--ignore-scripts'], {
    stdio: 'inherit',
  })
  if (result.status !== 0) {
    throw new Error(`installing the Apollo fixture failed; run: npm install --prefix ${dir}`)
  }
}
