import type { Resource } from '../resource.js'
import type { InstrumentationScope, ReadableSpan } from '../span.js'

export interface ScopeGroup {
  scope: InstrumentationScope
  spans: ReadableSpan[]
}

export interface ResourceGroup {
  resource: Resource
  scopes: ScopeGroup[]
}

/**
 * Groups spans by resource, then by instrumentation scope (OTLP's ResourceSpans → ScopeSpans).
 * Scopes are compared by name, version and schema URL, as two tracers for one scope are equal.
 */
export function groupByResourceAndScope(spans: readonly ReadableSpan[]): ResourceGroup[] {
  const groups: ResourceGroup[] = []
  // hot path: almost every batch has one resource and a few scopes; linear scans beat maps here.
  for (const span of spans) {
    const resource = span.resource
    let group: ResourceGroup | undefined
    for (const g of groups) {
      if (g.resource === resource) {
        group = g
        break
      }
    }
    if (!group) {
      group = { resource, scopes: [] }
      groups.push(group)
    }
    const scope = span.scope
    let scopeGroup: ScopeGroup | undefined
    for (const s of group.scopes) {
      if (s.scope === scope || sameScope(s.scope, scope)) {
        scopeGroup = s
        break
      }
    }
    if (!scopeGroup) {
      scopeGroup = { scope, spans: [] }
      group.scopes.push(scopeGroup)
    }
    scopeGroup.spans.push(span)
  }
  return groups
}

function sameScope(a: InstrumentationScope, b: InstrumentationScope): boolean {
  return a.name === b.name && (a.version ?? '') === (b.version ?? '') && (a.schemaUrl ?? '') === (b.schemaUrl ?? '')
}
