import type { SpanKindName } from '../model.js'
import { KIND_NAMES } from '../model.js'

/** A query parameter the client got wrong: answered with 400 and this message. */
export class BadParameter extends Error {}

const UNITS: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 }

/** "150ms", "2s", "1.5m", "300us", "24h"; a bare number is `bareUnit`. Returns microseconds. */
export function parseDuration(text: string, name: string, bareUnit: keyof typeof UNITS = 'ms'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d)?\s*$/.exec(text)
  if (!match) throw new BadParameter(`${name}: expected a duration like 150ms, 2s or 24h, got "${text.slice(0, 40)}"`)
  return Number(match[1]) * UNITS[match[2] ?? bareUnit]!
}

/** Epoch milliseconds or an ISO 8601 date; returns microseconds. */
export function parseTime(text: string, name: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const ms = Date.parse(text)
  if (Number.isNaN(ms))
    throw new BadParameter(`${name}: expected epoch milliseconds or an ISO date, got "${text.slice(0, 40)}"`)
  return ms * 1000
}

export function parseLimit(text: string | null, fallback: number, max: number): number {
  if (text === null || text === '') return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new BadParameter(`limit: expected a positive integer, got "${text.slice(0, 20)}"`)
  return Math.min(n, max)
}

export function parseKind(text: string | null): SpanKindName | undefined {
  if (text === null || text === '') return undefined
  const kind = text.toLowerCase() as SpanKindName
  if (!KIND_NAMES.includes(kind))
    throw new BadParameter(`spanKind: expected one of ${KIND_NAMES.join(', ')}, got "${text.slice(0, 20)}"`)
  return kind
}

/** `key=value` (the first `=` splits; keys may contain dots). */
export function parseAttribute(text: string): [string, string] {
  const cut = text.indexOf('=')
  if (cut <= 0) throw new BadParameter(`attr: expected key=value, got "${text.slice(0, 80)}"`)
  return [text.slice(0, cut), text.slice(cut + 1)]
}

/** A time window from `start`/`end` (or `end` and `lookback`, default 1h); microseconds. */
export function parseWindow(params: URLSearchParams, nowUs: number): { startUs: number; endUs: number } {
  const end = params.get('end')
  const endUs = end ? parseTime(end, 'end') : nowUs
  const start = params.get('start')
  const lookback = params.get('lookback')
  const startUs = start ? parseTime(start, 'start') : endUs - (lookback ? parseDuration(lookback, 'lookback') : 3600e6)
  if (startUs > endUs) throw new BadParameter('start: must not be after end')
  return { startUs, endUs }
}
