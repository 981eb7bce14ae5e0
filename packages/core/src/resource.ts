import { hostname } from 'node:os'
import { basename } from 'node:path'
import { envString, parseKeyValueList } from './env.js'
import type { Attributes } from './span.js'
import { VERSION } from './version.js'

/** The entity producing spans: a service instance (OTel resource semantic conventions). */
export interface Resource {
  readonly attributes: Attributes
  readonly schemaUrl?: string | undefined
}

export interface ResourceOptions {
  serviceName?: string | undefined
  serviceVersion?: string | undefined
  environment?: string | undefined
  attributes?: Attributes | undefined
}

/**
 * Builds the process's resource. Precedence, lowest first: detected process/host facts,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, then code options (code overrides env).
 */
export function createResource(options: ResourceOptions = {}): Resource {
  const executable = basename(process.execPath)
  const attributes: Attributes = {
    'service.name': `unknown_service:${executable}`,
    'telemetry.sdk.name': 'threadline',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': VERSION,
    'process.pid': process.pid,
    'process.executable.name': executable,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'host.name': safeHostname(),
    ...parseKeyValueList('OTEL_RESOURCE_ATTRIBUTES', envString('OTEL_RESOURCE_ATTRIBUTES')),
  }
  const envServiceName = envString('OTEL_SERVICE_NAME')
  if (envServiceName) attributes['service.name'] = envServiceName
  if (options.attributes) Object.assign(attributes, options.attributes)
  if (options.serviceName) attributes['service.name'] = options.serviceName
  if (options.serviceVersion) attributes['service.version'] = options.serviceVersion
  if (options.environment) attributes['deployment.environment.name'] = options.environment
  return { attributes: Object.freeze(attributes) }
}

function safeHostname(): string | undefined {
  try {
    return hostname()
  } catch {
    return undefined
  }
}
