import { diag } from './diag.js'

/** Reads an environment variable, trimmed; empty counts as unset (OTel SDK configuration spec). */
export function envString(name: string): string | undefined {
  const value = process.env[name]?.trim()
  return value ? value : undefined
}

export function envNumber(name: string): number | undefined {
  const raw = envString(name)
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) {
    diag.warn('TL_ERR_ENV_NUMBER', `${name}="${raw}" is not a non-negative number; using the default`)
    return undefined
  }
  return value
}

export function envBoolean(name: string): boolean | undefined {
  const raw = envString(name)?.toLowerCase()
  if (raw === undefined) return undefined
  if (raw === 'true') return true
  if (raw === 'false') return false
  diag.warn('TL_ERR_ENV_BOOLEAN', `${name}="${raw}" is not "true" or "false"; using the default`)
  return undefined
}

/** A comma-separated list, trimmed, lower-cased, empty items removed. */
export function envList(name: string): string[] | undefined {
  const raw = envString(name)
  if (raw === undefined) return undefined
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean)
}

/**
 * Parses `key1=value1,key2=value2` with percent-decoded values (OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_EXPORTER_OTLP_HEADERS). Returns undefined, after a warning, if any member is invalid:
 * the spec says to discard the whole value rather than guess.
 */
export function parseKeyValueList(name: string, raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined
  const out: Record<string, string> = {}
  for (const member of raw.split(',')) {
    if (!member.trim()) continue
    const eq = member.indexOf('=')
    const key = eq > 0 ? member.slice(0, eq).trim() : ''
    if (!key) {
      diag.warn('TL_ERR_ENV_LIST', `${name} has a member without "key=value" ("${member}"); ignoring ${name}`)
      return undefined
    }
    try {
      out[key] = decodeURIComponent(member.slice(eq + 1).trim())
    } catch {
      diag.warn(
        'TL_ERR_ENV_LIST',
        `${name} has a value that is not valid percent-encoding ("${member}"); ignoring ${name}`,
      )
      return undefined
    }
  }
  return out
}
