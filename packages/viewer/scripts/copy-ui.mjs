// Copies the built web UI (packages/viewer-ui/dist) into dist/ui, so the published viewer serves it.
// Runs after tsdown, which cleans dist.
import { cpSync, existsSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const from = join(root, '..', 'viewer-ui', 'dist')
const to = join(root, 'dist', 'ui')

if (!existsSync(join(from, 'index.html'))) {
  console.error(
    `copy-ui: no built UI at ${from}; build it first with \`npm run build -w @threadline/viewer-ui\` (or \`npx turbo run build\`, which builds it before the viewer)`,
  )
  process.exit(1)
}
rmSync(to, { recursive: true, force: true })
cpSync(from, to, { recursive: true })
console.log(`copy-ui: ${from} → ${to}`)
