import { useEffect, useMemo, useState } from 'preact/hooks'
import {
  analyzeTrace,
  buildTree,
  criticalPath,
  type Finding,
  flatten,
  fromStored,
  type PathSegment,
  traceStats,
} from '../../analysis/index.js'
import { type ApiSpan, api } from '../api.js'
import { FindingsList } from '../components/findings-list.js'
import { Minimap } from '../components/minimap.js'
import { SpanDetail } from '../components/span-detail.js'
import { Waterfall } from '../components/waterfall.js'
import { formatDuration, formatTime, serviceColor, valueText } from '../format.js'
import { downloadJson, importedTraces, toOtlpJson } from '../otlp.js'
import { navigate, onLinkClick, type Route, setParams } from '../router.js'

function useTrace(traceId: string): { spans?: ApiSpan[]; error?: string } {
  const [state, setState] = useState<{ spans?: ApiSpan[]; error?: string }>({})
  useEffect(() => {
    const imported = importedTraces.get(traceId)
    if (imported) {
      setState({ spans: imported })
      return
    }
    const controller = new AbortController()
    setState({})
    api
      .trace(traceId, controller.signal)
      .then((spans) => {
        performance.mark('tl:trace-fetched')
        setState({ spans })
      })
      .catch((error: Error) => {
        if (error.name !== 'AbortError') setState({ error: error.message })
      })
    return () => controller.abort()
  }, [traceId])
  return state
}

function parseWindow(text: string | null): [number, number] {
  const m = text ? /^(\d*\.?\d+)-(\d*\.?\d+)$/.exec(text) : null
  if (!m) return [0, 1]
  const a = Math.max(0, Math.min(1, Number(m[1])))
  const b = Math.max(0, Math.min(1, Number(m[2])))
  return b > a ? [a, b] : [0, 1]
}

export function TracePage(props: { route: Route; traceId: string }) {
  const { params } = props.route
  const { spans, error } = useTrace(props.traceId)
  const selectedId = params.get('span') ?? undefined
  const search = params.get('q') ?? ''
  const tab = params.get('tab') ?? 'timeline'
  const showCritical = params.get('cp') !== '0'
  const win = parseWindow(params.get('win'))
  const collapsedText = params.get('collapsed') ?? ''
  const collapsed = useMemo(() => new Set(collapsedText ? collapsedText.split(',') : []), [collapsedText])
  const [flagged, setFlagged] = useState<ReadonlySet<string>>(new Set())
  const [activeFinding, setActiveFinding] = useState<number>()

  const base = useMemo(() => {
    if (!spans) return undefined
    const tree = buildTree(spans.map(fromStored))
    const apiById = new Map(spans.map((s) => [s.spanId, s]))
    const services = new Map<string, number>()
    for (const s of spans) services.set(s.service, (services.get(s.service) ?? 0) + 1)
    return { tree, apiById, services, errors: spans.filter((s) => s.status.code === 'ERROR' || s.error).length }
  }, [spans])

  // the critical path and findings come one frame after the rows: a 10,000-span trace shows at once
  const [analysis, setAnalysis] = useState<{
    critical: Map<string, PathSegment[]>
    findings: Finding[]
    tree: unknown
  }>()
  useEffect(() => {
    if (!base) return
    const timer = setTimeout(() => {
      const bySpan = new Map<string, PathSegment[]>()
      for (const s of criticalPath(base.tree).segments) {
        const list = bySpan.get(s.spanId)
        if (list) list.push(s)
        else bySpan.set(s.spanId, [s])
      }
      setAnalysis({ critical: bySpan, findings: analyzeTrace(base.tree), tree: base.tree })
      performance.mark('tl:trace-analysed')
    }, 0)
    return () => clearTimeout(timer)
  }, [base])
  const ready = analysis !== undefined && analysis.tree === base?.tree
  const model = base && {
    ...base,
    critical: ready ? analysis.critical : undefined,
    findings: ready ? analysis.findings : [],
  }

  const rows = useMemo(() => (base ? flatten(base.tree, collapsed) : []), [base, collapsed])
  const matches = useMemo(() => {
    if (!base || !search.trim()) return undefined
    const needle = search.trim().toLowerCase()
    const out = new Set<string>()
    for (const span of base.tree.spans) {
      if (
        span.name.toLowerCase().includes(needle) ||
        span.service.toLowerCase().includes(needle) ||
        span.spanId === needle ||
        Object.entries(span.attributes).some(
          ([k, v]) => k.toLowerCase().includes(needle) || valueText(v).toLowerCase().includes(needle),
        )
      )
        out.add(span.spanId)
    }
    return out
  }, [base, search])

  useEffect(() => {
    // for the 10,000-span render test and anyone profiling: when the waterfall first shows rows
    if (base) performance.mark('tl:trace-rendered')
  }, [base])

  if (error)
    return (
      <div class="page">
        <div class="empty">
          Trace {props.traceId}: {error}
        </div>
      </div>
    )
  if (!model || !spans)
    return (
      <div class="page">
        <div class="empty">Loading trace…</div>
      </div>
    )

  const { tree } = model
  const root = tree.roots.reduce(
    (best, r) => (r.endUs - r.startUs > best.endUs - best.startUs ? r : best),
    tree.roots[0]!,
  )
  const select = (spanId: string | undefined) => setParams({ span: spanId })
  const toggle = (spanId: string) => {
    const next = new Set(collapsed)
    if (next.has(spanId)) next.delete(spanId)
    else next.add(spanId)
    setParams({ collapsed: [...next].join(',') })
  }
  const expandTo = (spanId: string) => {
    // make sure the span is visible: expand its collapsed ancestors
    const next = new Set(collapsed)
    let parent = tree.byId.get(spanId)?.parentSpanId
    let changed = false
    while (parent) {
      if (next.delete(parent)) changed = true
      parent = tree.byId.get(parent)?.parentSpanId
    }
    return changed ? [...next].join(',') : undefined
  }
  const pickFinding = (f: Finding, i: number) => {
    setFlagged(new Set(f.spanIds))
    setActiveFinding(i)
    const spanId = f.spanIds[0]!
    const c = expandTo(spanId)
    setParams(c !== undefined ? { span: spanId, collapsed: c } : { span: spanId })
  }
  const jumpToMatch = (direction: 1 | -1) => {
    if (!matches?.size) return
    const order = flatten(tree).filter((s) => matches.has(s.spanId))
    const current = order.findIndex((s) => s.spanId === selectedId)
    const next = order[(current + direction + order.length) % order.length]!
    const c = expandTo(next.spanId)
    setParams(c !== undefined ? { span: next.spanId, collapsed: c } : { span: next.spanId })
  }
  const selected = selectedId ? model.apiById.get(selectedId) : undefined
  const stats = tab === 'stats' ? traceStats(tree) : undefined

  return (
    <div class="page trace-page">
      <div class="trace-header">
        <div class="trace-title">
          <span class="svc-dot big" style={{ background: serviceColor(root.service) }} />
          <h1>
            <span class="muted">{root.service}:</span> {root.name}
          </h1>
          {model.errors > 0 && (
            <span class="badge error">
              {model.errors} error{model.errors > 1 ? 's' : ''}
            </span>
          )}
          {params.get('source') === 'file' && <span class="badge">from file</span>}
        </div>
        <div class="trace-meta">
          <span>
            <b>{formatDuration(tree.endUs - tree.startUs)}</b> duration
          </span>
          <span>
            <b>{spans.length.toLocaleString()}</b> spans
          </span>
          <span>
            <b>{model.services.size}</b> services
          </span>
          <span>
            <b>{Math.max(0, ...tree.depth.values()) + 1}</b> levels
          </span>
          <span>started {formatTime(tree.startUs)}</span>
          <span class="mono muted">{props.traceId}</span>
          <span class="spacer" />
          <a class="button ghost" href={`/compare?a=${encodeURIComponent(props.traceId)}`} onClick={onLinkClick}>
            Compare…
          </a>
          <button
            type="button"
            class="button"
            onClick={() => downloadJson(`trace-${props.traceId}.json`, toOtlpJson(spans))}
          >
            Export OTLP JSON
          </button>
        </div>
        <div class="legend">
          {[...model.services].map(([name, count]) => (
            <span key={name} class="chip">
              <span class="svc-dot" style={{ background: serviceColor(name) }} />
              {name} <span class="muted">{count}</span>
            </span>
          ))}
        </div>
      </div>
      <FindingsList
        findings={model.findings}
        activeIndex={activeFinding}
        onPick={(f) => pickFinding(f, model.findings.indexOf(f))}
      />
      <div class="toolbar">
        <div class="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={tab !== 'stats'}
            class={tab !== 'stats' ? 'active' : ''}
            onClick={() => setParams({ tab: undefined })}
          >
            Timeline
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'stats'}
            class={tab === 'stats' ? 'active' : ''}
            onClick={() => setParams({ tab: 'stats' })}
          >
            Statistics
          </button>
        </div>
        {tab !== 'stats' && (
          <>
            <div class="search-box">
              <input
                type="search"
                placeholder="Find in trace: name, service, attribute…"
                value={search}
                data-testid="trace-search"
                onInput={(e) => setParams({ q: (e.currentTarget as HTMLInputElement).value })}
                onKeyDown={(e) => e.key === 'Enter' && jumpToMatch(e.shiftKey ? -1 : 1)}
              />
              {matches && (
                <span class="match-count">
                  {matches.size} match{matches.size === 1 ? '' : 'es'}
                  <button type="button" class="link" onClick={() => jumpToMatch(-1)} title="Previous (Shift+Enter)">
                    ↑
                  </button>
                  <button type="button" class="link" onClick={() => jumpToMatch(1)} title="Next (Enter)">
                    ↓
                  </button>
                </span>
              )}
            </div>
            <label class="check">
              <input
                type="checkbox"
                checked={showCritical}
                onChange={() => setParams({ cp: showCritical ? '0' : undefined })}
              />
              <span class="crit-swatch" /> Critical path
            </label>
            <button type="button" class="button ghost small" onClick={() => setParams({ collapsed: undefined })}>
              Expand all
            </button>
            <button
              type="button"
              class="button ghost small"
              onClick={() =>
                setParams({
                  collapsed: tree.spans
                    .filter((s) => (tree.depth.get(s.spanId) ?? 0) >= 1 && tree.children.has(s.spanId))
                    .map((s) => s.spanId)
                    .join(','),
                })
              }
            >
              Collapse all
            </button>
          </>
        )}
      </div>
      {tab === 'stats' && stats ? (
        <div class="stats">
          <StatsTable title="By service" rows={stats.services} />
          <StatsTable title="By operation" rows={stats.operations} withOperation />
        </div>
      ) : (
        <div class={`trace-body ${selected ? 'with-detail' : ''}`}>
          <div class="timeline">
            <Minimap
              tree={tree}
              rows={rows}
              window={win}
              onWindow={(w) =>
                setParams({ win: w[0] === 0 && w[1] === 1 ? undefined : `${w[0].toFixed(4)}-${w[1].toFixed(4)}` })
              }
            />
            <Waterfall
              tree={tree}
              rows={rows}
              collapsed={collapsed}
              selectedId={selectedId}
              matches={matches}
              critical={showCritical ? model.critical : undefined}
              flagged={flagged}
              window={win}
              onSelect={(id) => select(id === selectedId ? undefined : id)}
              onToggle={toggle}
            />
          </div>
          {selected && (
            <SpanDetail
              span={selected}
              tree={tree}
              findings={model.findings}
              onClose={() => select(undefined)}
              onSelect={(id) => select(id)}
            />
          )}
        </div>
      )}
    </div>
  )
}

function StatsTable(props: {
  title: string
  rows: ReturnType<typeof traceStats>['services']
  withOperation?: boolean
}) {
  return (
    <section class="card">
      <h2>{props.title}</h2>
      <table class="grid-table" data-testid={props.withOperation ? 'stats-operations' : 'stats-services'}>
        <thead>
          <tr>
            <th>Service</th>
            {props.withOperation && <th>Operation</th>}
            <th class="num">Count</th>
            <th class="num">Errors</th>
            <th class="num">Total</th>
            <th class="num">Self</th>
            <th class="num">Max</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={`${r.service}/${r.operation ?? ''}`}>
              <td>
                <span class="svc-dot" style={{ background: serviceColor(r.service) }} /> {r.service}
              </td>
              {props.withOperation && <td>{r.operation}</td>}
              <td class="num">{r.count}</td>
              <td class={`num ${r.errorCount ? 'text-error' : ''}`}>{r.errorCount}</td>
              <td class="num">{formatDuration(r.totalUs)}</td>
              <td class="num">{formatDuration(r.selfUs)}</td>
              <td class="num">{formatDuration(r.maxUs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

export function goToTrace(traceId: string): void {
  navigate(`/trace/${encodeURIComponent(traceId)}`)
}
