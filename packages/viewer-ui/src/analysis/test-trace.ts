import type { AnalysisSpan, SpanKind } from './span.js'

/** Hand-built traces for the analysis tests: times in milliseconds, stored in µs. */
export function span(
  spanId: string,
  parentSpanId: string | undefined,
  name: string,
  startMs: number,
  endMs: number,
  extra: {
    kind?: SpanKind
    service?: string
    attributes?: Record<string, unknown>
    error?: string
    events?: AnalysisSpan['events']
  } = {},
): AnalysisSpan {
  return {
    traceId: 't1',
    spanId,
    parentSpanId,
    name,
    kind: extra.kind ?? 'internal',
    service: extra.service ?? 'api',
    startUs: startMs * 1000,
    endUs: endMs * 1000,
    attributes: extra.attributes ?? {},
    status: extra.error !== undefined ? { code: 'ERROR', message: extra.error } : { code: 'UNSET' },
    events: extra.events ?? [],
  }
}

export function query(spanId: string, parent: string, summary: string, startMs: number, endMs: number): AnalysisSpan {
  return span(spanId, parent, summary, startMs, endMs, {
    kind: 'client',
    attributes: {
      'db.system.name': 'postgresql',
      'db.query.summary': summary,
      'db.query.text': `${summary} WHERE id = $1`,
    },
  })
}

export function get(
  spanId: string,
  parent: string,
  route: string,
  startMs: number,
  endMs: number,
  service = 'api',
): AnalysisSpan {
  return span(spanId, parent, `GET ${route}`, startMs, endMs, {
    kind: 'client',
    service,
    attributes: { 'http.request.method': 'GET', 'url.template': route, 'server.address': 'catalog' },
  })
}
