import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface ChartSeries {
  label: string
  color: string
  values: (number | null)[]
}

/** A time-series line chart (uPlot: small, canvas, fast). `xs` are epoch seconds. */
export function LineChart(props: {
  title: string
  xs: number[]
  series: ChartSeries[]
  format(v: number): string
  testId?: string
}) {
  const host = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = host.current
    if (!el) return
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 180,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' } },
          {
            stroke: '#6b7280',
            size: 64,
            grid: { stroke: '#eef0f3' },
            ticks: { stroke: '#e5e7eb' },
            values: (_u, values) => values.map((v) => props.format(v)),
          },
        ],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: props.series.length === 1 ? `${s.color}14` : undefined,
            // dots only where a line cannot show the data (a few buckets with values)
            points: { show: s.values.filter((v) => v !== null && v !== 0).length < 8, size: 5 },
            spanGaps: true,
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : props.format(v)),
          })),
        ],
      },
      [props.xs, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    )
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 180 }))
    observer.observe(el)
    return () => {
      observer.disconnect()
      plot.destroy()
    }
  }, [props.xs, props.series])
  return (
    <div class="chart card" data-testid={props.testId}>
      <h3>{props.title}</h3>
      <div ref={host} />
    </div>
  )
}
