import { useEffect, useState } from 'preact/hooks'
import { analyzeTrace, buildTree, type Finding, fromStored } from '../../analysis/index.js'
import { api, mapLimit, type TraceSummary } from '../api.js'
import { findingLabel } from '../components/findings-list.js'
import { formatAgo, formatDuration } from '../format.js'
import { onLinkClick, query, type Route, setParams } from '../router.js'
import { useServices } from './search.js'

interface Row {
  trace: TraceSummary
  finding: Finding
}

/** Findings across recent traces, worst first; each links to its trace with the span selected. */
export function FindingsPage(props: { route: Route }) {
  const { params } = props.route
  const services = useServices()
  const service = params.get('service') ?? ''
  const lookback = params.get('lookback') ?? '1h'
  const type = params.get('type') ?? ''
  const [rows, setRows] = useState<Row[]>()

  useEffect(() => {
    let stopped = false
    setRows(undefined)
    api
      .search(query({ service, lookback, limit: 100 }))
      .then((traces) =>
        mapLimit(traces, 4, async (trace) => {
          try {
            const spans = await api.trace(trace.traceId)
            return analyzeTrace(buildTree(spans.map(fromStored))).map((finding) => ({ trace, finding }))
          } catch {
            return []
          }
        }),
      )
      .then(
        (all) => !stopped && setRows(all.flat()),
        () => !stopped && setRows([]),
      )
    return () => {
      stopped = true
    }
  }, [service, lookback])

  const rank = { high: 0, medium: 1, low: 2 }
  const shown = (rows ?? [])
    .filter((r) => (type ? r.finding.type === type : r.finding.type !== 'largest-self-time'))
    .sort((a, b) => rank[a.finding.severity] - rank[b.finding.severity] || b.trace.startUs - a.trace.startUs)

  return (
    <div class="page findings-page">
      <div class="page-head">
        <h1>Findings</h1>
        <select value={service} onChange={(e) => setParams({ service: (e.currentTarget as HTMLSelectElement).value })}>
          <option value="">All services</option>
          {services.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select value={type} onChange={(e) => setParams({ type: (e.currentTarget as HTMLSelectElement).value })}>
          <option value="">N+1, sequential calls, errors</option>
          {(['n-plus-one', 'sequential-calls', 'error-root-cause', 'largest-self-time'] as const).map((t) => (
            <option key={t} value={t}>
              {findingLabel(t)}
            </option>
          ))}
        </select>
        <select
          value={lookback}
          onChange={(e) => setParams({ lookback: (e.currentTarget as HTMLSelectElement).value })}
        >
          {['15m', '1h', '6h', '24h', '7d'].map((l) => (
            <option key={l} value={l}>
              Last {l}
            </option>
          ))}
        </select>
      </div>
      {!rows && <div class="empty card">Analysing recent traces…</div>}
      {rows && shown.length === 0 && <div class="empty card">No findings in the 100 most recent traces.</div>}
      <ul class="findings wide" data-testid="findings-page">
        {shown.map(({ trace, finding }, i) => (
          <li key={i} class={`finding sev-${finding.severity}`} data-finding={finding.type}>
            <a href={`/trace/${trace.traceId}?span=${finding.spanIds[0]}`} onClick={onLinkClick}>
              <span class={`tag tag-${finding.type}`}>{findingLabel(finding.type)}</span>
              <span class="finding-title">{finding.title}</span>
              <span class="finding-detail">{finding.detail}</span>
              <span class="finding-meta">
                {trace.rootService}: {trace.rootName} · {formatDuration(trace.durationUs)} · {formatAgo(trace.startUs)}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </div>
  )
}
