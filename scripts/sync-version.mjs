// Writes each package's version (package.json, bumped by `changeset version`) into the VERSION
// constant its tracer reports as the instrumentation scope version. `npm run version` runs it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const VERSION_LINE = /^((?:export )?const VERSION = )'[^']*'/m

function files(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) files(path, out)
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

/** { file, constant, version } for every VERSION constant in the packages' sources. */
export function versionConstants(root = process.cwd()) {
  const found = []
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', pkg)
    let version
    try {
      version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
    } catch {
      continue
    }
    let sources = []
    try {
      sources = files(join(dir, 'src'))
    } catch {}
    for (const file of sources) {
      const m = VERSION_LINE.exec(readFileSync(file, 'utf8'))
      if (m) found.push({ file, constant: m[0].split("'")[1], version })
    }
  }
  return found
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { file, constant, version } of versionConstants()) {
    if (constant === version) continue
    writeFileSync(file, readFileSync(file, 'utf8').replace(VERSION_LINE, `$1'${version}'`))
    console.log(`${file}: ${constant} → ${version}`)
  }
}
