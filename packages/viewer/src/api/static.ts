import { createReadStream, existsSync, statSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
}

/** Every page: nothing loads from another origin, nothing inline runs (span fields are text). */
export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/**
 * Serves the built web UI from `root` (a single-page app: unknown paths get `index.html`, so deep
 * links work). Without a built UI, a small page says where the API is.
 */
export function serveUi(root: string | undefined, path: string, res: ServerResponse): void {
  if (root && existsSync(join(root, 'index.html'))) {
    const base = resolve(root)
    let file = resolve(base, `.${decodeSafe(path)}`)
    if (file !== base && !file.startsWith(base + sep)) file = join(base, 'index.html')
    if (!isFile(file)) file = extname(path) ? '' : join(base, 'index.html')
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
      res.end('not found\n')
      return
    }
    const immutable = file.includes(`${sep}assets${sep}`)
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...SECURITY_HEADERS,
    })
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res)
    return
  }
  res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS })
  res.end(PLACEHOLDER)
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function decodeSafe(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return '/'
  }
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Threadline viewer</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>Threadline viewer</h1>
<p>The collector is running. The web UI is not built into this copy; the query API is:</p>
<ul>
<li><a href="/api/v1/services">/api/v1/services</a></li>
<li><a href="/api/v1/traces?limit=20">/api/v1/traces</a></li>
<li><a href="/api/v1/dependencies">/api/v1/dependencies</a></li>
<li><a href="/api/v1/status">/api/v1/status</a></li>
</ul>
</body></html>
`
