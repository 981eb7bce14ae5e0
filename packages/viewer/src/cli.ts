#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander'
import { ViewerError } from './errors.js'
import { startViewer, type Viewer } from './server.js'
import { VERSION } from './version.js'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535 (0 = any free port)')
  return n
}

function positive(value: string): number {
  const n = Number(value.replace(/_/g, ''))
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

function bytes(value: string): number {
  const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i.exec(value.trim())
  if (!match) throw new InvalidArgumentError('expected a size such as 16mb, 512kb or 1048576')
  const unit = (match[2] ?? 'b').toLowerCase()
  return Number(match[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1)
}

function duration(value: string): string {
  if (!/^(\d+(\.\d+)?\s*(ms|s|m|h|d)?|0|off)$/.test(value.trim())) {
    throw new InvalidArgumentError('expected a duration such as 24h, 90m or 7d (or off)')
  }
  return value.trim()
}

const program = new Command('threadline')
  .description(
    'Threadline viewer: a local trace collector (OTLP/HTTP, OTLP/gRPC, Zipkin) with a trace store, query API and web UI.',
  )
  .version(VERSION, '-v, --version')
  .argument('[command]', 'only "start" (the default)')
  .addOption(
    new Option('--host <host>', 'interface to bind; a non-loopback host requires --token')
      .default('127.0.0.1')
      .env('THREADLINE_HOST'),
  )
  .addOption(
    new Option('--otlp-http-port <port>', 'OTLP/HTTP port (POST /v1/traces)')
      .default(4318)
      .argParser(port)
      .env('THREADLINE_OTLP_HTTP_PORT'),
  )
  .addOption(
    new Option('--otlp-grpc-port <port>', 'OTLP/gRPC port')
      .default(4317)
      .argParser(port)
      .env('THREADLINE_OTLP_GRPC_PORT'),
  )
  .addOption(
    new Option('--zipkin-port <port>', 'Zipkin v2 port (POST /api/v2/spans)')
      .default(9411)
      .argParser(port)
      .env('THREADLINE_ZIPKIN_PORT'),
  )
  .addOption(
    new Option('--ui-port <port>', 'web UI and query API port')
      .default(16686)
      .argParser(port)
      .env('THREADLINE_UI_PORT'),
  )
  .addOption(
    new Option('--store <memory|PATH.db>', 'keep spans in memory or in a SQLite file')
      .default('memory')
      .env('THREADLINE_STORE'),
  )
  .addOption(
    new Option('--max-spans <n>', 'span bound of the memory store (oldest traces are evicted)')
      .default(1_000_000)
      .argParser(positive)
      .env('THREADLINE_MAX_SPANS'),
  )
  .addOption(
    new Option(
      '--retention <duration>',
      'drop traces older than this, e.g. 24h (default: off for memory, 7d for SQLite)',
    )
      .argParser(duration)
      .env('THREADLINE_RETENTION'),
  )
  .addOption(new Option('--token <token>', 'bearer token required for ingest, UI and API').env('THREADLINE_TOKEN'))
  .addOption(
    new Option('--max-body <size>', 'largest accepted request body')
      .default(16 * 1024 * 1024, '16mb')
      .argParser(bytes)
      .env('THREADLINE_MAX_BODY'),
  )
  .addOption(
    new Option(
      '--slo <objective>',
      'latency objective for the Operations page, e.g. "GET /orders/:id=200ms@99%" (repeatable; env THREADLINE_SLO, comma-separated)',
    ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
  )
  .addOption(new Option('-q, --quiet', 'print only the UI address, not ingest problems').env('THREADLINE_QUIET'))
  .showHelpAfterError('(run threadline --help for every option)')
  .action(async (command: string | undefined, options) => {
    if (command !== undefined && command !== 'start')
      program.error(`threadline: unknown command "${command}" (the only command is start, the default)`)
    await start(options)
  })

interface CliOptions {
  host: string
  otlpHttpPort: number
  otlpGrpcPort: number
  zipkinPort: number
  uiPort: number
  store: string
  maxSpans: number
  retention?: string
  token?: string
  maxBody: number
  slo?: string[]
  quiet?: boolean
}

async function start(options: CliOptions): Promise<void> {
  const quiet = Boolean(options.quiet)
  let viewer: Viewer
  try {
    viewer = await startViewer({
      host: options.host,
      otlpHttpPort: options.otlpHttpPort,
      otlpGrpcPort: options.otlpGrpcPort,
      zipkinPort: options.zipkinPort,
      uiPort: options.uiPort,
      store: options.store,
      maxSpans: options.maxSpans,
      retention: options.retention,
      token: options.token,
      maxBodyBytes: options.maxBody,
      slos: options.slo ?? sloFromEnv(),
      log: quiet ? undefined : (line) => process.stderr.write(`threadline: ${line}\n`),
    })
  } catch (error) {
    if (error instanceof ViewerError) {
      process.stderr.write(`threadline: ${error.message} [${error.code}]\n`)
      process.exit(1)
    }
    throw error
  }
  if (quiet) process.stdout.write(`${viewer.urls.ui}\n`)
  else {
    const store =
      viewer.store.kind === 'memory'
        ? `memory (up to ${options.maxSpans.toLocaleString('en')} spans)`
        : `SQLite ${options.store}`
    process.stdout.write(
      [
        `Threadline viewer ${VERSION}`,
        `  UI and query API  ${viewer.urls.ui}`,
        `  OTLP/HTTP         ${viewer.urls.otlpHttp}`,
        `  OTLP/gRPC         ${viewer.urls.otlpGrpc}`,
        `  Zipkin            ${viewer.urls.zipkin}`,
        `  store             ${store}`,
        '',
      ].join('\n'),
    )
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) process.exit(1)
    stopping = true
    if (!quiet) process.stderr.write(`threadline: ${signal}, stopping\n`)
    viewer.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

/** THREADLINE_SLO: objectives separated by commas (used when no --slo is given). */
function sloFromEnv(): string[] {
  return (process.env.THREADLINE_SLO ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`threadline: ${(error as Error).message}\n`)
  process.exit(1)
})
