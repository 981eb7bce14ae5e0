import type { AnalysisSpan } from './span.js'

/** Recognises the spans the findings are about: database queries and outgoing HTTP calls. */

const CONNECT = /(^|[.\s_:-])(connect|pool|acquire|checkout|release)([.\s_:-]|$)/i

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined
}

export function dbSystem(span: AnalysisSpan): string | undefined {
  return str(span.attributes['db.system.name']) ?? str(span.attributes['db.system'])
}

export function queryText(span: AnalysisSpan): string | undefined {
  return str(span.attributes['db.query.text']) ?? str(span.attributes['db.statement'])
}

/** A pool checkout or connection span: bookkeeping between a caller and its queries, never a query. */
export function isConnectSpan(span: AnalysisSpan): boolean {
  if (span.attributes['db.query.summary'] !== undefined || queryText(span) !== undefined) return false
  return CONNECT.test(span.name)
}

/**
 * What makes two calls "the same call": the query summary (or operation + table, or the query
 * text with literals folded) for a database, method + route template + host for HTTP.
 */
export function callKey(span: AnalysisSpan): string | undefined {
  const a = span.attributes
  const system = dbSystem(span)
  if (system !== undefined) {
    if (isConnectSpan(span)) return undefined
    const operation = str(a['db.operation.name']) ?? str(a['db.operation'])
    const collection = str(a['db.collection.name']) ?? str(a['db.sql.table'])
    const text = queryText(span)
    const summary =
      str(a['db.query.summary']) ??
      (text ? foldLiterals(text) : undefined) ??
      (operation ? `${operation}${collection ? ` ${collection}` : ''}` : undefined) ??
      span.name
    return `db\u0000${system}\u0000${summary}`
  }
  if (span.kind !== 'client' && span.kind !== 'producer') return undefined
  const method = str(a['http.request.method']) ?? str(a['http.method'])
  if (method === undefined) return undefined
  const host = str(a['server.address']) ?? str(a['net.peer.name']) ?? ''
  const route = str(a['url.template']) ?? str(a['http.route']) ?? routeOfUrl(str(a['url.full']) ?? str(a['http.url']))
  return `http\u0000${method.toUpperCase()}\u0000${host}\u0000${route ?? span.name}`
}

/** A readable label for a call key. */
export function callLabel(span: AnalysisSpan): string {
  const a = span.attributes
  if (dbSystem(span) !== undefined) {
    return str(a['db.query.summary']) ?? (queryText(span) ? foldLiterals(queryText(span)!) : span.name)
  }
  const method = str(a['http.request.method']) ?? str(a['http.method'])
  const route = str(a['url.template']) ?? str(a['http.route']) ?? routeOfUrl(str(a['url.full']) ?? str(a['http.url']))
  return method && route ? `${method.toUpperCase()} ${route}` : span.name
}

export function isTransactionControl(span: AnalysisSpan): boolean {
  const label = callLabel(span).trim().toUpperCase()
  return /^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SAVEPOINT|RELEASE)\b/.test(label)
}

/** SQL with its literals replaced by `?`, so `WHERE id = 1` and `WHERE id = 2` are one query. */
export function foldLiterals(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\$\d+/g, '?')
    .replace(/\b\d+(?:\.\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300)
}

/** `/users/42/orders?x=1` → `/users/{id}/orders`: ids, uuids and hex runs become `{id}`. */
export function routeOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined
  let path = url
  try {
    path = new URL(url, 'http://x.invalid').pathname
  } catch {}
  return path
    .split('/')
    .map((part) => (/^\d+$|^[0-9a-f]{8}-[0-9a-f-]{27}$|^[0-9a-f]{16,}$/i.test(part) ? '{id}' : part))
    .join('/')
}

/** A GraphQL resolver span's field path with list indices folded: `posts.3.author` → `posts.*.author`. */
export function graphqlPath(span: AnalysisSpan): string | undefined {
  const path = str(span.attributes['graphql.field.path'])
  return path?.replace(/(^|\.)\d+(?=\.|$)/g, '$1*')
}

/** A resolver span for one list item (`posts.3.author`), as opposed to one merged over the list (`posts.*.author`). */
export function isPerItemResolver(span: AnalysisSpan): boolean {
  const path = str(span.attributes['graphql.field.path'])
  return path !== undefined && /(^|\.)\d+(\.|$)/.test(path)
}
