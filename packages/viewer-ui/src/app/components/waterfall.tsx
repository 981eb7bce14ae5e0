import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { AnalysisSpan, PathSegment, TraceTree } from '../../analysis/index.js'
import { formatDuration, serviceColor } from '../format.js'

export const ROW_HEIGHT = 26
const OVERSCAN = 12

export interface WaterfallProps {
  tree: TraceTree
  rows: AnalysisSpan[]
  collapsed: ReadonlySet<string>
  selectedId: string | undefined
  matches: ReadonlySet<string> | undefined
  critical: ReadonlyMap<string, PathSegment[]> | undefined
  flagged: ReadonlySet<string>
  /** Visible time window as fractions of the trace, [0, 1] when not zoomed. */
  window: [number, number]
  onSelect(spanId: string): void
  onToggle(spanId: string): void
}

/** The span tree against a time axis; only the rows in view are in the DOM (10,000-span traces stay smooth). */
export function Waterfall(props: WaterfallProps) {
  const { tree, rows, window: win } = props
  const scroller = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const total = Math.max(1, tree.endUs - tree.startUs)
  const winStart = tree.startUs + win[0] * total
  const winWidth = Math.max(1, (win[1] - win[0]) * total)

  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    const observer = new ResizeObserver(() => setHeight(el.clientHeight))
    // the observer reports the first size after layout: no forced synchronous layout here
    observer.observe(el)
    return () => observer.disconnect()
  }, [])

  // bring the selected span into view (from a finding, a search match or a deep link)
  const selectedIndex = useMemo(() => rows.findIndex((r) => r.spanId === props.selectedId), [rows, props.selectedId])
  useEffect(() => {
    const el = scroller.current
    if (!el || selectedIndex < 0) return
    const top = selectedIndex * ROW_HEIGHT
    if (top < el.scrollTop || top + ROW_HEIGHT > el.scrollTop + el.clientHeight)
      el.scrollTop = Math.max(0, top - el.clientHeight / 3)
  }, [selectedIndex])

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN)
  const visible = rows.slice(first, last)
  const ticks = [0, 0.2, 0.4, 0.6, 0.8]

  return (
    <div class="waterfall">
      <div class="wf-head">
        <div class="wf-name-col">Service &amp; operation</div>
        <div class="wf-time-col">
          {ticks.map((t) => (
            <span key={t} class="tick" style={{ left: `${t * 100}%` }}>
              {formatDuration(winStart - tree.startUs + t * winWidth)}
            </span>
          ))}
          <span class="tick end">{formatDuration(winStart - tree.startUs + winWidth)}</span>
        </div>
      </div>
      <div
        class="wf-rows"
        ref={scroller}
        onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
        data-testid="waterfall"
        role="tree"
      >
        <div style={{ height: `${rows.length * ROW_HEIGHT}px`, position: 'relative' }}>
          <div class="wf-grid" aria-hidden="true">
            {ticks.map((t) => (
              <span key={t} style={{ left: `${t * 100}%` }} />
            ))}
          </div>
          {visible.map((span, i) => {
            const index = first + i
            const depth = tree.depth.get(span.spanId) ?? 0
            const kids = tree.children.get(span.spanId)?.length ?? 0
            const isCollapsed = props.collapsed.has(span.spanId)
            const left = ((span.startUs - winStart) / winWidth) * 100
            const width = Math.max(((span.endUs - span.startUs) / winWidth) * 100, 0.15)
            const error = span.status.code === 'ERROR'
            const dim = props.matches !== undefined && !props.matches.has(span.spanId)
            const color = serviceColor(span.service)
            const self = tree.selfUs.get(span.spanId) ?? 0
            const segments = props.critical?.get(span.spanId)
            const cls = [
              'wf-row',
              props.selectedId === span.spanId ? 'selected' : '',
              dim ? 'dim' : '',
              props.matches?.has(span.spanId) ? 'match' : '',
              props.flagged.has(span.spanId) ? 'flagged' : '',
            ].join(' ')
            return (
              <div
                key={span.spanId}
                class={cls}
                style={{ top: `${index * ROW_HEIGHT}px` }}
                role="treeitem"
                aria-level={depth + 1}
                aria-expanded={kids ? !isCollapsed : undefined}
                aria-selected={props.selectedId === span.spanId}
                data-span-id={span.spanId}
                data-depth={depth}
                tabIndex={props.selectedId === span.spanId || (props.selectedId === undefined && index === 0) ? 0 : -1}
                onClick={() => props.onSelect(span.spanId)}
                onKeyDown={(e) => {
                  // keyboard: Enter selects, arrows open and close, up/down move between rows
                  if (e.key === 'Enter' || e.key === ' ') props.onSelect(span.spanId)
                  else if ((e.key === 'ArrowRight' && isCollapsed) || (e.key === 'ArrowLeft' && kids && !isCollapsed))
                    props.onToggle(span.spanId)
                  else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                    const next = rows[index + (e.key === 'ArrowDown' ? 1 : -1)]
                    if (next) props.onSelect(next.spanId)
                  } else return
                  e.preventDefault()
                }}
              >
                <div class="wf-name-col" style={{ paddingLeft: `${8 + Math.min(depth, 40) * 14}px` }}>
                  <span style={{ width: `${Math.min(depth, 40) * 14}px` }} class="guides" aria-hidden="true" />
                  {kids ? (
                    <button
                      type="button"
                      class={`toggle ${isCollapsed ? 'closed' : ''}`}
                      title={isCollapsed ? `Expand (${kids} children)` : 'Collapse'}
                      onClick={(e) => {
                        e.stopPropagation()
                        props.onToggle(span.spanId)
                      }}
                    >
                      ▾
                    </button>
                  ) : (
                    <span class="toggle-space" />
                  )}
                  <span class="svc-dot" style={{ background: color }} />
                  <span class="svc">{span.service}</span>
                  <span class="op" title={span.name}>
                    {span.name}
                  </span>
                  {error && (
                    <span class="err-mark" title={span.status.message ?? 'error'}>
                      !
                    </span>
                  )}
                  {isCollapsed && <span class="count-badge">+{countBelow(tree, span.spanId)}</span>}
                </div>
                <div class="wf-time-col">
                  <div
                    class={`bar ${error ? 'error' : ''}`}
                    style={{ left: `${left}%`, width: `${width}%`, background: color }}
                    title={`${formatDuration(span.endUs - span.startUs)} (self ${formatDuration(self)})`}
                  >
                    {segments?.map((s) => (
                      <span
                        key={s.startUs}
                        class="crit"
                        style={{
                          left: `${((s.startUs - span.startUs) / Math.max(1, span.endUs - span.startUs)) * 100}%`,
                          width: `${((s.endUs - s.startUs) / Math.max(1, span.endUs - span.startUs)) * 100}%`,
                        }}
                      />
                    ))}
                  </div>
                  <span
                    // right of the bar; near the right edge: inside a wide bar, or left of a narrow one
                    class={`bar-label ${left + width > 80 && width > 22 ? 'inside' : ''}`}
                    style={
                      left + width <= 80
                        ? { left: `${Math.max(0, left + width) + 0.5}%` }
                        : width > 22
                          ? { right: `${Math.max(0, 100 - left - width) + 0.5}%` }
                          : { right: `${Math.max(0, 100 - left) + 0.5}%` }
                    }
                  >
                    {formatDuration(span.endUs - span.startUs)}
                    {kids > 0 && self > 0 && <span class="self"> · self {formatDuration(self)}</span>}
                  </span>
                </div>
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}

function countBelow(tree: TraceTree, spanId: string): number {
  let n = 0
  const stack = [...(tree.children.get(spanId) ?? [])]
  const seen = new Set<string>()
  while (stack.length) {
    const s = stack.pop()!
    if (seen.has(s.spanId)) continue
    seen.add(s.spanId)
    n++
    stack.push(...(tree.children.get(s.spanId) ?? []))
  }
  return n
}
