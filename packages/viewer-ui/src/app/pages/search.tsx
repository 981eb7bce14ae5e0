import { useEffect, useRef, useState } from 'preact/hooks'
import { analyzeTrace, buildTree, type FindingType, fromStored } from '../../analysis/index.js'
import { api, mapLimit, type TraceSummary } from '../api.js'
import { findingLabel } from '../components/findings-list.js'
import { Scatter } from '../components/scatter.js'
import { formatAgo, formatDuration, formatTime, serviceColor } from '../format.js'
import { navigate, onLinkClick, query, type Route } from '../router.js'

const LOOKBACKS = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['', 'All time'],
] as const

const FINDING_TYPES: FindingType[] = ['n-plus-one', 'sequential-calls', 'error-root-cause', 'largest-self-time']

/** Findings per trace, computed once per trace id and span count (late spans re-run it). */
const findingsCache = new Map<string, { spanCount: number; types: FindingType[] }>()

export function useServices(): string[] {
  const [services, setServices] = useState<string[]>([])
  useEffect(() => {
    api.services().then(setServices, () => setServices([]))
  }, [])
  return services
}

export function useOperations(service: string): string[] {
  const [operations, setOperations] = useState<string[]>([])
  useEffect(() => {
    if (!service) return setOperations([])
    api.operations(service).then(
      (ops) => setOperations([...new Set(ops.map((o) => o.name))].sort()),
      () => setOperations([]),
    )
  }, [service])
  return operations
}

function apiQuery(params: URLSearchParams): string {
  const attrs = (params.get('attrs') ?? '')
    .split(/\s+(?=[^\s=]+=)/)
    .map((s) => s.trim())
    .filter((s) => s.includes('='))
  return query({
    service: params.get('service'),
    operation: params.get('operation'),
    attr: attrs,
    minDuration: params.get('minDuration'),
    maxDuration: params.get('maxDuration'),
    error: params.get('error') === '1' ? 'true' : undefined,
    // the viewer runs the same analysis and keeps only traces with this finding
    finding: params.get('finding'),
    lookback: params.get('lookback') ?? '1h',
    limit: params.get('limit') ?? '50',
  })
}

export function SearchPage(props: { route: Route }) {
  const { params } = props.route
  const services = useServices()
  const [form, setForm] = useState(() => Object.fromEntries(params))
  const operations = useOperations(form.service ?? '')
  const [traces, setTraces] = useState<TraceSummary[]>()
  const [error, setError] = useState<string>()
  const [findings, setFindings] = useState(0)
  const [selected, setSelected] = useState<string[]>([])
  const live = params.get('live') !== '0'
  const q = apiQuery(params)
  const findingFilter = (params.get('finding') ?? '') as FindingType | ''
  const latest = useRef(q)

  useEffect(() => setForm(Object.fromEntries(params)), [params.toString()])

  useEffect(() => {
    latest.current = q
    let stopped = false
    const load = () =>
      api.search(q).then(
        (list) => {
          if (stopped || latest.current !== q) return
          setTraces(list)
          setError(undefined)
          // findings for each listed trace (local API: cheap), to badge and filter
          const todo = list.filter((t) => findingsCache.get(t.traceId)?.spanCount !== t.spanCount)
          if (todo.length)
            void mapLimit(todo, 4, async (t) => {
              try {
                const spans = await api.trace(t.traceId)
                const types = [...new Set(analyzeTrace(buildTree(spans.map(fromStored))).map((f) => f.type))]
                findingsCache.set(t.traceId, { spanCount: t.spanCount, types })
              } catch {}
            }).then(() => !stopped && setFindings((n) => n + 1))
        },
        (e: Error) => !stopped && setError(e.message),
      )
    void load()
    const timer = live ? setInterval(load, 3000) : undefined
    return () => {
      stopped = true
      if (timer) clearInterval(timer)
    }
  }, [q, live])

  const submit = (e: Event) => {
    e.preventDefault()
    const next: Record<string, string> = {}
    for (const [k, v] of Object.entries(form)) if (v) next[k] = v
    navigate(`/search${query(next)}`)
  }
  const field = (name: string) => ({
    value: form[name] ?? '',
    onInput: (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value }),
  })

  void findings
  const shown = traces ?? []
  const maxDuration = Math.max(1, ...shown.map((t) => t.durationUs))

  return (
    <div class="page search-page">
      <form class="filters card" onSubmit={submit} data-testid="search-form">
        <h2>Find traces</h2>
        <label>
          Service
          <select
            name="service"
            value={form.service ?? ''}
            onChange={(e) => setForm({ ...form, service: (e.currentTarget as HTMLSelectElement).value, operation: '' })}
          >
            <option value="">All services</option>
            {services.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Operation
          <select
            name="operation"
            {...field('operation')}
            onChange={(e) => setForm({ ...form, operation: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">All operations</option>
            {operations.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          Attributes
          <input
            name="attrs"
            placeholder="http.response.status_code=500 db.system.name=postgresql"
            {...field('attrs')}
          />
        </label>
        <div class="row2">
          <label>
            Min duration
            <input name="minDuration" placeholder="e.g. 100ms" {...field('minDuration')} />
          </label>
          <label>
            Max duration
            <input name="maxDuration" placeholder="e.g. 2s" {...field('maxDuration')} />
          </label>
        </div>
        <label>
          Time range
          <select
            name="lookback"
            value={form.lookback ?? '1h'}
            onChange={(e) => setForm({ ...form, lookback: (e.currentTarget as HTMLSelectElement).value })}
          >
            {LOOKBACKS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Findings
          <select
            name="finding"
            value={form.finding ?? ''}
            onChange={(e) => setForm({ ...form, finding: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">Any</option>
            {FINDING_TYPES.map((t) => (
              <option key={t} value={t}>
                {findingLabel(t)}
              </option>
            ))}
          </select>
        </label>
        <div class="row2">
          <label class="check">
            <input
              type="checkbox"
              name="error"
              checked={form.error === '1'}
              onChange={(e) => setForm({ ...form, error: (e.currentTarget as HTMLInputElement).checked ? '1' : '' })}
            />
            Errors only
          </label>
          <label>
            Limit
            <input name="limit" type="number" min="1" max="1000" placeholder="50" {...field('limit')} />
          </label>
        </div>
        <button class="button primary" type="submit">
          Find traces
        </button>
      </form>
      <section class="results">
        <div class="card scatter-card">
          <div class="card-head">
            <h2>
              {traces ? `${shown.length} trace${shown.length === 1 ? '' : 's'}` : 'Searching…'}
              {findingFilter && <span class="muted"> with {findingLabel(findingFilter)} findings</span>}
            </h2>
            <span class="spacer" />
            <button
              type="button"
              class={`live ${live ? 'on' : ''}`}
              onClick={() =>
                navigate(`/search${query({ ...Object.fromEntries(params), live: live ? '0' : undefined })}`, {
                  replace: true,
                })
              }
              title="New traces appear without reloading"
            >
              <span class="pulse" /> {live ? 'Live' : 'Paused'}
            </button>
            {selected.length === 2 && (
              <a class="button" href={`/compare?a=${selected[0]}&b=${selected[1]}`} onClick={onLinkClick}>
                Compare selected
              </a>
            )}
          </div>
          <Scatter traces={shown} />
        </div>
        {error && <div class="banner error">{error}</div>}
        {traces && shown.length === 0 && (
          <div class="empty card">
            No traces match. Send spans to the viewer (OTLP on :4318, Zipkin on :9411) or widen the filters.
          </div>
        )}
        <ul class="trace-list" data-testid="trace-list">
          {shown.map((t) => {
            const types = findingsCache.get(t.traceId)?.types ?? []
            return (
              <li key={t.traceId} class="trace-item" data-trace-id={t.traceId}>
                <input
                  type="checkbox"
                  title="Select two traces to compare"
                  checked={selected.includes(t.traceId)}
                  onChange={() =>
                    setSelected((s) =>
                      s.includes(t.traceId) ? s.filter((x) => x !== t.traceId) : [...s, t.traceId].slice(-2),
                    )
                  }
                />
                <a href={`/trace/${t.traceId}`} onClick={onLinkClick} class="trace-link">
                  <div class="trace-line1">
                    <span class="svc-dot" style={{ background: serviceColor(t.rootService) }} />
                    <span class="root-svc">{t.rootService}</span>
                    <span class="root-name">{t.rootName}</span>
                    {t.errorCount > 0 && (
                      <span class="badge error">
                        {t.errorCount} error{t.errorCount > 1 ? 's' : ''}
                      </span>
                    )}
                    {types
                      .filter((x) => x !== 'largest-self-time' && x !== 'error-root-cause')
                      .map((x) => (
                        <span key={x} class={`tag tag-${x}`}>
                          {findingLabel(x)}
                        </span>
                      ))}
                    <span class="spacer" />
                    <span class="duration">{formatDuration(t.durationUs)}</span>
                  </div>
                  <div class="duration-track">
                    <span
                      style={{ width: `${(t.durationUs / maxDuration) * 100}%` }}
                      class={t.errorCount ? 'error' : ''}
                    />
                  </div>
                  <div class="trace-line2">
                    {t.services.map((s) => (
                      <span key={s.name} class="chip">
                        <span class="svc-dot" style={{ background: serviceColor(s.name) }} />
                        {s.name} <span class="muted">{s.spanCount}</span>
                      </span>
                    ))}
                    <span class="spacer" />
                    <span class="muted">{t.spanCount} spans</span>
                    <span class="muted" title={formatTime(t.startUs)}>
                      {formatAgo(t.startUs)} · {formatTime(t.startUs).slice(11)}
                    </span>
                  </div>
                </a>
              </li>
            )
          })}
        </ul>
      </section>
    </div>
  )
}
