/**
 * The SDK's own warnings. Each has a stable code (listed in docs/errors.md) and is printed at
 * most once per code per interval, so a dead exporter or a buggy caller never floods the log.
 */

export type DiagLevel = 'none' | 'error' | 'warn' | 'info' | 'debug'
export type DiagLogger = (level: Exclude<DiagLevel, 'none'>, code: string, message: string) => void

const LEVELS: Record<DiagLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4 }

const defaultLogger: DiagLogger = (level, code, message) => {
  const line = `[threadline] ${code}: ${message}`
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

let logger: DiagLogger = defaultLogger
let threshold = LEVELS[parseLevel(process.env.OTEL_LOG_LEVEL)]
const lastLogged = new Map<string, number>()
const REPEAT_INTERVAL_MS = 60_000

function parseLevel(value: string | undefined): DiagLevel {
  const v = value?.trim().toLowerCase()
  if (v === 'none' || v === 'error' || v === 'warn' || v === 'info' || v === 'debug') return v
  if (v === 'verbose' || v === 'all') return 'debug'
  return 'warn'
}

/** Replaces the SDK's logger and level (e.g. to route warnings into pino). */
export function setDiagLogger(next: DiagLogger | undefined, level?: DiagLevel): void {
  logger = next ?? defaultLogger
  if (level) threshold = LEVELS[level]
}

/** Returns true when the message was written (false when filtered or repeated too soon). */
function log(level: Exclude<DiagLevel, 'none'>, code: string, message: string, always: boolean): boolean {
  if (LEVELS[level] > threshold) return false
  if (!always) {
    const t = Date.now()
    const last = lastLogged.get(code)
    if (last !== undefined && t - last < REPEAT_INTERVAL_MS) return false
    lastLogged.set(code, t)
  }
  try {
    logger(level, code, message)
  } catch {
    // a broken logger must not break tracing
  }
  return true
}

/** True when a warning with this code would be written now: check before building an expensive message. */
function wouldWarn(code: string): boolean {
  if (LEVELS.warn > threshold) return false
  const last = lastLogged.get(code)
  return last === undefined || Date.now() - last >= REPEAT_INTERVAL_MS
}

export const diag = {
  wouldWarn,
  error: (code: string, message: string) => log('error', code, message, false),
  warn: (code: string, message: string) => log('warn', code, message, false),
  info: (code: string, message: string) => log('info', code, message, true),
  debug: (code: string, message: string) => log('debug', code, message, true),
  /** Test hook: forget which codes were already logged. */
  reset: () => lastLogged.clear(),
}
