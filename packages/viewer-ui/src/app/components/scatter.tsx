import type { TraceSummary } from '../api.js'
import { formatClock, formatDuration } from '../format.js'
import { onLinkClick } from '../router.js'

const W = 1000
const H = 170
const PAD = { left: 56, right: 12, top: 10, bottom: 22 }

/** Duration over time, one dot per trace (errors red); a click opens the trace. */
export function Scatter(props: { traces: TraceSummary[] }) {
  const { traces } = props
  if (!traces.length)
    return <svg class="scatter" viewBox={`0 0 ${W} ${H}`} data-testid="scatter" aria-label="No traces" />
  const t0 = Math.min(...traces.map((t) => t.startUs))
  const t1 = Math.max(t0 + 1, ...traces.map((t) => t.startUs))
  const dMax = Math.max(1, ...traces.map((t) => t.durationUs)) * 1.1
  const x = (us: number) => PAD.left + ((us - t0) / (t1 - t0)) * (W - PAD.left - PAD.right)
  const y = (d: number) => H - PAD.bottom - (d / dMax) * (H - PAD.top - PAD.bottom)
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * dMax)
  const xTicks = [0, 0.33, 0.66, 1].map((f) => t0 + f * (t1 - t0))
  return (
    <svg
      class="scatter"
      viewBox={`0 0 ${W} ${H}`}
      data-testid="scatter"
      role="img"
      aria-label="Trace durations over time"
    >
      {yTicks.map((d) => (
        <g key={d}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(d)} y2={y(d)} class="gridline" />
          <text x={PAD.left - 6} y={y(d) + 4} text-anchor="end" class="axis">
            {formatDuration(d)}
          </text>
        </g>
      ))}
      {xTicks.map((t, i) => (
        <text
          key={t}
          x={x(t)}
          y={H - 6}
          text-anchor={i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle'}
          class="axis"
        >
          {formatClock(t)}
        </text>
      ))}
      {traces.map((t) => (
        <a key={t.traceId} href={`/trace/${t.traceId}`} onClick={onLinkClick}>
          <circle
            cx={x(t.startUs)}
            cy={y(t.durationUs)}
            r={Math.min(9, 3.5 + Math.log2(1 + t.spanCount) / 2)}
            class={t.errorCount ? 'dot error' : 'dot'}
          >
            <title>{`${t.rootService}: ${t.rootName} — ${formatDuration(t.durationUs)}, ${t.spanCount} spans`}</title>
          </circle>
        </a>
      ))}
    </svg>
  )
}
