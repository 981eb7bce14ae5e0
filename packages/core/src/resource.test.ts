import { afterEach, describe, expect, it, vi } from 'vitest'
import { createResource } from './resource.js'

afterEach(() => vi.unstubAllEnvs())

describe('resource', () => {
  it('detects the process and defaults service.name to unknown_service', () => {
    const { attributes } = createResource()
    expect(attributes['service.name']).toMatch(/^unknown_service:node/)
    expect(attributes['process.pid']).toBe(process.pid)
    expect(attributes['process.runtime.version']).toBe(process.versions.node)
    expect(attributes['telemetry.sdk.name']).toBe('threadline')
    expect(typeof attributes['host.name']).toBe('string')
  })

  it('reads OTEL_RESOURCE_ATTRIBUTES (percent-decoded) and OTEL_SERVICE_NAME, with code options on top', () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'service.name=from-attrs, deployment.environment.name=staging,team=a%20b')
    expect(createResource().attributes).toMatchObject({
      'service.name': 'from-attrs',
      'deployment.environment.name': 'staging',
      team: 'a b',
    })
    vi.stubEnv('OTEL_SERVICE_NAME', 'from-env')
    expect(createResource().attributes['service.name']).toBe('from-env')
    expect(createResource({ serviceName: 'from-code', environment: 'prod' }).attributes).toMatchObject({
      'service.name': 'from-code',
      'deployment.environment.name': 'prod',
    })
  })

  it('discards a malformed OTEL_RESOURCE_ATTRIBUTES whole instead of guessing', () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'good=1,broken,x=%E0%A4%A')
    const { attributes } = createResource()
    expect(attributes.good).toBeUndefined()
    expect(attributes['service.name']).toMatch(/^unknown_service/)
  })
})
