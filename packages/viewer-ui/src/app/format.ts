export { formatMs as formatDuration } from '../analysis/index.js'

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
  '#e15759',
  '#ff9da7',
  '#86bcb6',
  '#8cd17d',
  '#a0cbe8',
]

/** A stable colour per service name, the same on every page. */
export function serviceColor(service: string): string {
  let hash = 2166136261
  for (let i = 0; i < service.length; i++) hash = Math.imul(hash ^ service.charCodeAt(i), 16777619)
  return PALETTE[(hash >>> 0) % PALETTE.length]!
}

export function formatTime(us: number): string {
  const d = new Date(us / 1000)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

export function formatClock(us: number): string {
  return formatTime(us).slice(11, 19)
}

export function formatAgo(us: number, nowMs = Date.now()): string {
  const s = Math.max(0, nowMs / 1000 - us / 1e6)
  if (s < 60) return `${Math.round(s)}s ago`
  if (s < 3600) return `${Math.round(s / 60)}m ago`
  if (s < 86400) return `${Math.round(s / 3600)}h ago`
  return `${Math.round(s / 86400)}d ago`
}

export function formatPercent(x: number): string {
  if (x === 0) return '0%'
  if (x < 0.001) return '<0.1%'
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`
}

export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0/s'
  if (perSecond >= 10) return `${perSecond.toFixed(0)}/s`
  if (perSecond >= 0.1) return `${perSecond.toFixed(2)}/s`
  if (perSecond * 60 >= 0.1) return `${(perSecond * 60).toFixed(1)}/min`
  return `${(perSecond * 3600).toFixed(1)}/h`
}

/** Attribute values as text (objects and arrays as JSON). */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  return JSON.stringify(value)
}
