import type { Finding, TraceTree } from '../../analysis/index.js'
import type { ApiSpan } from '../api.js'
import { formatGraphql, formatSql, type Token } from '../documents.js'
import { formatDuration, formatTime, serviceColor, valueText } from '../format.js'
import { onLinkClick } from '../router.js'

function Tokens(props: { tokens: Token[]; label: string }) {
  return (
    <pre class="document" title={props.label}>
      {props.tokens.map((t, i) =>
        t.kind ? (
          <span key={i} class={`tok-${t.kind}`}>
            {t.text}
          </span>
        ) : (
          t.text
        ),
      )}
    </pre>
  )
}

function AttributeTable(props: { attributes: Record<string, unknown>; testId?: string }) {
  const entries = Object.entries(props.attributes).sort(([a], [b]) => a.localeCompare(b))
  if (!entries.length) return <p class="muted small">none</p>
  return (
    <table class="kv" data-testid={props.testId}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{valueText(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function SpanDetail(props: {
  span: ApiSpan
  tree: TraceTree
  findings: Finding[]
  onClose(): void
  onSelect(id: string): void
}) {
  const { span, tree } = props
  const a = span.attributes
  const sql =
    typeof a['db.query.text'] === 'string'
      ? a['db.query.text']
      : typeof a['db.statement'] === 'string'
        ? a['db.statement']
        : undefined
  const gql = typeof a['graphql.document'] === 'string' ? a['graphql.document'] : undefined
  const exceptions = span.events.filter((e) => e.name === 'exception')
  const logs = span.events.filter((e) => e.name !== 'exception')
  const self = tree.selfUs.get(span.spanId) ?? 0
  const parent = span.parentSpanId ? tree.byId.get(span.parentSpanId) : undefined
  const related = props.findings.filter((f) => f.spanIds.includes(span.spanId))
  return (
    <aside class="detail" data-testid="span-detail" aria-label="Span details">
      <div class="detail-head">
        <div>
          <div class="detail-svc">
            <span class="svc-dot" style={{ background: serviceColor(span.service) }} />
            {span.service}
            <span class="kind">{span.kind}</span>
          </div>
          <h2 class="detail-name">{span.name}</h2>
        </div>
        <button type="button" class="icon-button" title="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      <dl class="facts">
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(span.durationUs)}</dd>
        </div>
        <div>
          <dt>Self time</dt>
          <dd>{formatDuration(self)}</dd>
        </div>
        <div>
          <dt>Starts at</dt>
          <dd>+{formatDuration(span.startUs - tree.startUs)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd class={span.status.code === 'ERROR' ? 'text-error' : ''}>
            {span.status.code}
            {span.status.message ? `: ${span.status.message}` : ''}
          </dd>
        </div>
      </dl>
      {related.map((f, i) => (
        <div key={i} class={`finding-inline sev-${f.severity}`}>
          {f.title}
        </div>
      ))}
      {sql && (
        <section>
          <h3>SQL</h3>
          <Tokens tokens={formatSql(sql)} label="SQL query" />
        </section>
      )}
      {gql && (
        <section>
          <h3>GraphQL document</h3>
          <Tokens tokens={formatGraphql(gql)} label="GraphQL document" />
        </section>
      )}
      {exceptions.map((e, i) => (
        <section key={`x${i}`} class="exception">
          <h3>Exception</h3>
          <div class="exc-title">
            {valueText(e.attributes['exception.type'])}
            {e.attributes['exception.message'] !== undefined ? `: ${valueText(e.attributes['exception.message'])}` : ''}
          </div>
          {e.attributes['exception.stacktrace'] !== undefined && (
            <pre class="stack">{valueText(e.attributes['exception.stacktrace'])}</pre>
          )}
        </section>
      ))}
      <section>
        <h3>Attributes</h3>
        <AttributeTable attributes={span.attributes} testId="span-attributes" />
      </section>
      {logs.length > 0 && (
        <section>
          <h3>Events ({logs.length})</h3>
          <ul class="events">
            {logs.map((e, i) => (
              <li key={i}>
                <div>
                  <span class="muted">+{formatDuration(e.timeUs - span.startUs)}</span> <strong>{e.name}</strong>
                </div>
                {Object.keys(e.attributes).length > 0 && <AttributeTable attributes={e.attributes} />}
              </li>
            ))}
          </ul>
        </section>
      )}
      {span.links.length > 0 && (
        <section>
          <h3>Links</h3>
          <ul class="links">
            {span.links.map((l, i) => (
              <li key={i}>
                <a
                  href={`/trace/${encodeURIComponent(l.traceId)}?span=${encodeURIComponent(l.spanId)}`}
                  onClick={onLinkClick}
                >
                  {l.traceId.slice(0, 16)}… / {l.spanId}
                </a>
                {Object.keys(l.attributes).length > 0 && <AttributeTable attributes={l.attributes} />}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h3>Resource</h3>
        <AttributeTable attributes={span.resource ?? {}} />
      </section>
      <section>
        <h3>Identifiers</h3>
        <table class="kv">
          <tbody>
            <tr>
              <th>span id</th>
              <td>{span.spanId}</td>
            </tr>
            <tr>
              <th>parent</th>
              <td>
                {parent ? (
                  <button type="button" class="link" onClick={() => props.onSelect(parent.spanId)}>
                    {parent.name} ({span.parentSpanId})
                  </button>
                ) : (
                  (span.parentSpanId ?? 'root')
                )}
              </td>
            </tr>
            <tr>
              <th>trace id</th>
              <td>{span.traceId}</td>
            </tr>
            <tr>
              <th>start</th>
              <td>{formatTime(span.startUs)}</td>
            </tr>
            {span.scope && (
              <tr>
                <th>scope</th>
                <td>
                  {span.scope.name}
                  {span.scope.version ? `@${span.scope.version}` : ''}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </aside>
  )
}
