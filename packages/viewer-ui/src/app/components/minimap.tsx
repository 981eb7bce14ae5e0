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
    // drawn after the rows are on screen, pixel by pixel into one ImageData: 10,000 fillRect
    // calls cost ~150 ms on a software-rendered canvas, this costs a few
    const timer = setTimeout(() => {
      const width = Math.max(1, Math.round(el.clientWidth * (window.devicePixelRatio || 1)))
      const height = Math.max(1, Math.round(el.clientHeight * (window.devicePixelRatio || 1)))
      el.width = width
      el.height = height
      const ctx = el.getContext('2d')
      if (!ctx) return
      const image = ctx.createImageData(width, height)
      const pixels = new Uint32Array(image.data.buffer)
      const total = Math.max(1, tree.endUs - tree.startUs)
      const n = Math.max(1, rows.length)
      const band = Math.max(1, Math.min(Math.floor(height / n), 6))
      const colors = new Map<string, number>()
      const packed = (span: AnalysisSpan) => {
        const key = span.status.code === 'ERROR' ? '#d9363e' : serviceColor(span.service)
        let c = colors.get(key)
        if (c === undefined) {
          const v = Number.parseInt(key.slice(1), 16)
          c = (0xff << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)
          colors.set(key, c)
        }
        return c
      }
      for (let i = 0; i < rows.length; i++) {
        const span = rows[i]!
        const x0 = Math.max(0, Math.floor(((span.startUs - tree.startUs) / total) * width))
        const x1 = Math.min(width, Math.max(x0 + 1, Math.ceil(((span.endUs - tree.startUs) / total) * width)))
        const y0 = Math.min(height - 1, Math.floor((i / n) * height))
        const color = packed(span)
        for (let y = y0; y < Math.min(height, y0 + band); y++) pixels.fill(color, y * width + x0, y * width + x1)
      }
      ctx.putImageData(image, 0, 0)
    }, 0)
    return () => clearTimeout(timer)
  }, [tree, rows])

  const fraction = (e: MouseEvent) => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect()
    return Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width))
  }
  const shown = drag ? ([Math.min(...drag), Math.max(...drag)] as [number, number]) : props.window
  const zoomed = shown[0] > 0 || shown[1] < 1

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a pointer gesture; the same zoom is the `win` URL parameter and double-click resets it
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
