/**
 * GraphQL attribute names this package needs beyond core's semconv (ATTR_GRAPHQL_OPERATION_*,
 * ATTR_GRAPHQL_DOCUMENT). Kept in this one file so they can move to core's semconv.ts as is.
 */

// Resolver spans (names follow OpenTelemetry instrumentation-graphql where it has one)
export const ATTR_GRAPHQL_FIELD_NAME = 'graphql.field.name'
export const ATTR_GRAPHQL_FIELD_PATH = 'graphql.field.path'
export const ATTR_GRAPHQL_FIELD_TYPE = 'graphql.field.type'
export const ATTR_GRAPHQL_PARENT_TYPE = 'graphql.parent.type'
// Merged resolver spans: one span for a field path across list items (`users.*.posts`)
export const ATTR_GRAPHQL_RESOLVER_COUNT = 'graphql.resolver.count'
export const ATTR_GRAPHQL_RESOLVER_DURATION_TOTAL = 'graphql.resolver.duration.total_ms'
export const ATTR_GRAPHQL_RESOLVER_DURATION_MAX = 'graphql.resolver.duration.max_ms'
export const ATTR_GRAPHQL_RESOLVER_DURATION_P50 = 'graphql.resolver.duration.p50_ms'
export const ATTR_GRAPHQL_RESOLVER_ERROR_COUNT = 'graphql.resolver.error_count'
// Operations
export const ATTR_GRAPHQL_ERROR_COUNT = 'graphql.error.count'
/** Event attribute on exception events: the response path of the error (`users.3.posts`). */
export const ATTR_GRAPHQL_ERROR_PATH = 'graphql.error.path'
/** Name of the attribute for an allow-listed variable (`graphql.variables.id`). */
export function graphqlVariableAttribute(name: string): string {
  return `graphql.variables.${name}`
}

/** Resolver span name: `Query.user`, `User.orders` (semconv has none; OTel uses the field path). */
export function graphqlResolverSpanName(parentType: string, fieldName: string): string {
  return `${parentType}.${fieldName}`
}

/** Span names of the two operation phases before execution. */
export const SPAN_GRAPHQL_PARSE = 'graphql.parse'
export const SPAN_GRAPHQL_VALIDATE = 'graphql.validate'
