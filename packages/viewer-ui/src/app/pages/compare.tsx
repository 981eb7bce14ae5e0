import { useEffect, useMemo, useState } from 'preact/hooks'
import { buildTree, compareTraces, fromStored } from '../../analysis/index.js'
import { type ApiSpan, api } from '../api.js'
import { formatDuration, serviceColor } from '../format.js'
import { importedTraces } from '../otlp.js'
import { onLinkClick, type Route, setParams } from '../router.js'

function useSpans(traceId: string): ApiSpan[] | string | undefined {
  const [spans, setSpans] = useState<ApiSpan[] | string>()
  useEffect(() => {
    setSpans(undefined)
    if (!traceId) return
    const imported = importedTraces.get(traceId)
    if (imported) return setSpans(imported)
    api.trace(traceId).then(setSpans, (e: Error) => setSpans(e.message))
  }, [traceId])
  return spans
}

/** Two traces side by side, aligned by structure; added, removed, slower and faster spans marked. */
export function ComparePage(props: { route: Route }) {
  const a = props.route.params.get('a') ?? ''
  const b = props.route.params.get('b') ?? ''
  const spansA = useSpans(a)
  const spansB = useSpans(b)
  const rows = useMemo(() => {
    if (!Array.isArray(spansA) || !Array.isArray(spansB)) return undefined
    return compareTraces(buildTree(spansA.map(fromStored)), buildTree(spansB.map(fromStored)))
  }, [spansA, spansB])
  const scale = rows
    ? Math.max(1, ...rows.map((r) => Math.max(r.a ? r.a.endUs - r.a.startUs : 0, r.b ? r.b.endUs - r.b.startUs : 0)))
    : 1
  const counts = rows ? countChanges(rows) : undefined

  return (
    <div class="page compare-page">
      <div class="page-head">
        <h1>Compare traces</h1>
      </div>
      <form
        class="card compare-form"
        onSubmit={(e) => {
          e.preventDefault()
          const f = e.currentTarget as HTMLFormElement
          setParams(
            {
              a: (f.elements.namedItem('a') as HTMLInputElement).value.trim(),
              b: (f.elements.namedItem('b') as HTMLInputElement).value.trim(),
            },
            { replace: false },
          )
        }}
      >
        <label>
          Trace A <input name="a" value={a} placeholder="trace id" class="mono" />
        </label>
        <label>
          Trace B <input name="b" value={b} placeholder="trace id" class="mono" />
        </label>
        <button class="button primary" type="submit">
          Compare
        </button>
      </form>
      {typeof spansA === 'string' && <div class="banner error">A: {spansA}</div>}
      {typeof spansB === 'string' && <div class="banner error">B: {spansB}</div>}
      {(!a || !b) && (
        <div class="empty card">Pick two traces (tick two in Search, or paste their ids) to compare them.</div>
      )}
      {rows && counts && (
        <div class="card">
          <div class="compare-summary">
            {(['slower', 'faster', 'added', 'removed', 'same'] as const).map((c) => (
              <span key={c} class={`chip change-${c}`}>
                {counts[c] ?? 0} {c}
              </span>
            ))}
          </div>
          <table class="grid-table compare-table" data-testid="compare-table">
            <thead>
              <tr>
                <th>Span</th>
                <th>
                  <a href={`/trace/${a}`} onClick={onLinkClick}>
                    A
                  </a>
                </th>
                <th>
                  <a href={`/trace/${b}`} onClick={onLinkClick}>
                    B
                  </a>
                </th>
                <th class="num">Δ</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, 3000).map((r, i) => {
                const da = r.a ? r.a.endUs - r.a.startUs : undefined
                const db = r.b ? r.b.endUs - r.b.startUs : undefined
                return (
                  <tr key={i} class={`change-${r.change}`} data-change={r.change}>
                    <td style={{ paddingLeft: `${8 + Math.min(r.depth, 30) * 14}px` }}>
                      <span class="svc-dot" style={{ background: serviceColor(r.service) }} />{' '}
                      <span class="muted">{r.service}</span> {r.name}
                    </td>
                    <td class="bar-cell">{da !== undefined && <Bar us={da} scale={scale} />}</td>
                    <td class="bar-cell">{db !== undefined && <Bar us={db} scale={scale} />}</td>
                    <td class="num">
                      {r.change === 'added'
                        ? 'only in B'
                        : r.change === 'removed'
                          ? 'only in A'
                          : `${(r.deltaUs ?? 0) >= 0 ? '+' : '−'}${formatDuration(Math.abs(r.deltaUs ?? 0))}`}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

function Bar(props: { us: number; scale: number }) {
  return (
    <div class="mini-bar">
      <span style={{ width: `${Math.max(0.5, (props.us / props.scale) * 100)}%` }} />
      <em>{formatDuration(props.us)}</em>
    </div>
  )
}

function countChanges(rows: { change: string }[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of rows) counts[r.change] = (counts[r.change] ?? 0) + 1
  return counts
}
