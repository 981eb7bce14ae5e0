import { useEffect, useRef, useState } from 'preact/hooks'
import type { AnalysisSpan, TraceTree } from '../../analysis/index.js'
import { serviceColor } from '../format.js'

/** The whole trace in 56 pixels; drag to zoom the waterfall to a time window, double-click to reset. */
export function Minimap(props: {
  tree: TraceTree
  rows: AnalysisSpan[]
  window: [number, number]
  onWindow(w: [number, number]): void
}) {
  const canvas = useRef<HTMLCanvasElement>(null)
  const [drag, setDrag] = useState<[number, number]>()
  const { tree, rows } = props

  useEffect(() => {
    const el = canvas.current
    if (!el) return
    const ratio = window.devicePixelRatio || 1
    const width = el.clientWidth
    const height = el.clientHeight
    el.width = width * ratio
    el.height = height * ratio
    const ctx = el.getContext('2d')
    if (!ctx) return
    ctx.scale(ratio, ratio)
    ctx.clearRect(0, 0, width, height)
    const total = Math.max(1, tree.endUs - tree.startUs)
    const rowH = Math.max(0.5, Math.min(4, height / Math.max(1, rows.length)))
    rows.forEach((span, i) => {
      const x = ((span.startUs - tree.startUs) / total) * width
      const w = Math.max(1, ((span.endUs - span.startUs) / total) * width)
      ctx.fillStyle = span.status.code === 'ERROR' ? '#d9363e' : serviceColor(span.service)
      ctx.fillRect(x, (i / Math.max(1, rows.length)) * height, w, Math.max(rowH, 0.5))
    })
  }, [tree, rows])

  const fraction = (e: MouseEvent) => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect()
    return Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width))
  }
  const shown = drag ? ([Math.min(...drag), Math.max(...drag)] as [number, number]) : props.window
  const zoomed = shown[0] > 0 || shown[1] < 1

  return (
    <div
      class="minimap"
      data-testid="minimap"
      onMouseDown={(e) => {
        const f = fraction(e)
        setDrag([f, f])
      }}
      onMouseMove={(e) => drag && setDrag([drag[0], fraction(e)])}
      onMouseUp={() => {
        if (drag) {
          const [a, b] = [Math.min(...drag), Math.max(...drag)]
          props.onWindow(b - a > 0.005 ? [a, b] : [0, 1])
        }
        setDrag(undefined)
      }}
      onMouseLeave={() => setDrag(undefined)}
      onDblClick={() => props.onWindow([0, 1])}
      title="Drag to zoom into a time window; double-click to see the whole trace"
    >
      <canvas ref={canvas} />
      {zoomed && (
        <>
          <div class="shade" style={{ left: 0, width: `${shown[0] * 100}%` }} />
          <div class="shade" style={{ left: `${shown[1] * 100}%`, right: 0 }} />
          <div class="window" style={{ left: `${shown[0] * 100}%`, width: `${(shown[1] - shown[0]) * 100}%` }} />
        </>
      )}
    </div>
  )
}
