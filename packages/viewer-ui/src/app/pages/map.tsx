import { Graph, layout } from '@dagrejs/dagre'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, type DependencyEdge } from '../api.js'
import { formatDuration, formatPercent, formatRate, serviceColor } from '../format.js'
import { onLinkClick, query, type Route, setParams } from '../router.js'

type Dependencies = Awaited<ReturnType<typeof api.dependencies>>

const NODE_W = 170
const NODE_H = 46

/** Services and databases as nodes, calls as edges with rate, error rate and p95; laid out by dagre. */
export function MapPage(props: { route: Route }) {
  const lookback = props.route.params.get('lookback') ?? '1h'
  const [data, setData] = useState<Dependencies>()
  const [error, setError] = useState<string>()

  useEffect(() => {
    let stopped = false
    const load = () =>
      api.dependencies(query({ lookback })).then(
        (d) => !stopped && setData(d),
        (e: Error) => !stopped && setError(e.message),
      )
    void load()
    const timer = setInterval(load, 5000)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, [lookback])

  const graph = useMemo(() => {
    if (!data) return undefined
    const g = new Graph<
      {
        rankdir: string
        nodesep: number
        ranksep: number
        marginx: number
        marginy: number
        width?: number
        height?: number
      },
      { width: number; height: number; x?: number; y?: number },
      { points?: { x: number; y: number }[]; width?: number; height?: number; x?: number; y?: number }
    >({ multigraph: false })
    g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 150, marginx: 24, marginy: 24 })
    g.setDefaultEdgeLabel(() => ({}))
    for (const node of data.nodes) g.setNode(node.name, { width: NODE_W, height: NODE_H })
    for (const edge of data.edges) g.setEdge(edge.parent, edge.child, { width: 150, height: 34 })
    layout(g)
    const info = g.graph() as { width?: number; height?: number }
    return { g, width: info.width ?? 400, height: info.height ?? 200 }
  }, [data])

  const windowSeconds = data ? Math.max(1, (data.endUs - data.startUs) / 1e6) : 1
  const edgeLabel = (e: DependencyEdge) => [
    `${e.callCount} ${e.callCount === 1 ? 'call' : 'calls'} · ${formatRate(e.callCount / windowSeconds)}`,
    `${formatPercent(e.callCount ? e.errorCount / e.callCount : 0)} errors${e.p95Us !== undefined ? ` · p95 ${formatDuration(e.p95Us)}` : ''}`,
  ]

  return (
    <div class="page map-page">
      <div class="page-head">
        <h1>Service map</h1>
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
        <span class="muted small">Click a service or an edge to see its traces.</span>
      </div>
      {error && <div class="banner error">{error}</div>}
      {data && data.nodes.length === 0 && (
        <div class="empty card">No services yet: send spans to the viewer and they appear here.</div>
      )}
      {graph && data && data.nodes.length > 0 && (
        <div class="card map-card">
          <svg
            viewBox={`0 0 ${graph.width} ${graph.height}`}
            width={graph.width}
            height={graph.height}
            class="service-map"
            data-testid="service-map"
          >
            <title>Service dependency map</title>
            <defs>
              <marker
                id="arrow"
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="7"
                markerHeight="7"
                orient="auto-start-reverse"
              >
                <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
              </marker>
              <marker
                id="arrow-err"
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="7"
                markerHeight="7"
                orient="auto-start-reverse"
              >
                <path d="M 0 0 L 10 5 L 0 10 z" class="arrow error" />
              </marker>
            </defs>
            {data.edges.map((e) => {
              const ed = graph.g.edge(e.parent, e.child)
              if (!ed?.points) return null
              const d = ed.points
                .map((p: { x: number; y: number }, i: number) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`)
                .join(' ')
              const failing = e.errorCount > 0
              const [line1, line2] = edgeLabel(e)
              const target =
                e.childKind === 'database'
                  ? query({ service: e.parent, attrs: `db.system.name=${e.child}` })
                  : query({ service: e.child })
              return (
                <a
                  key={`${e.parent}->${e.child}`}
                  href={`/search${target}`}
                  onClick={onLinkClick}
                  class={`edge ${failing ? 'error' : ''}`}
                  data-edge={`${e.parent}->${e.child}`}
                >
                  <path
                    d={d}
                    marker-end={`url(#${failing ? 'arrow-err' : 'arrow'})`}
                    style={{ strokeWidth: `${Math.min(6, 1.2 + Math.log10(1 + e.callCount))}px` }}
                  />
                  <text x={ed.x} y={(ed.y ?? 0) - 4} text-anchor="middle" class="edge-label">
                    {line1}
                  </text>
                  <text
                    x={ed.x}
                    y={(ed.y ?? 0) + 11}
                    text-anchor="middle"
                    class={`edge-label ${failing ? 'error' : ''}`}
                  >
                    {line2}
                  </text>
                </a>
              )
            })}
            {data.nodes.map((n) => {
              const node = graph.g.node(n.name)
              if (!node || node.x === undefined || node.y === undefined) return null
              const x = node.x - NODE_W / 2
              const y = node.y - NODE_H / 2
              return (
                <a
                  key={n.name}
                  href={`/search${n.kind === 'database' ? query({ attrs: `db.system.name=${n.name}` }) : query({ service: n.name })}`}
                  onClick={onLinkClick}
                  class={`node ${n.kind}`}
                  data-node={n.name}
                >
                  {n.kind === 'database' ? (
                    <>
                      <path
                        d={`M ${x} ${y + 8} v ${NODE_H - 16} a ${NODE_W / 2} 8 0 0 0 ${NODE_W} 0 v ${-(NODE_H - 16)}`}
                        class="db-body"
                      />
                      <ellipse cx={node.x} cy={y + 8} rx={NODE_W / 2} ry={8} class="db-top" />
                    </>
                  ) : (
                    <rect x={x} y={y} width={NODE_W} height={NODE_H} rx={10} style={{ stroke: serviceColor(n.name) }} />
                  )}
                  {n.kind === 'service' && (
                    <rect x={x} y={y} width={6} height={NODE_H} rx={3} style={{ fill: serviceColor(n.name) }} />
                  )}
                  <text x={node.x} y={node.y + (n.kind === 'database' ? 8 : 5)} text-anchor="middle" class="node-label">
                    {n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name}
                  </text>
                </a>
              )
            })}
          </svg>
        </div>
      )}
      {data && data.edges.length > 0 && (
        <div class="card">
          <table class="grid-table" data-testid="edges-table">
            <thead>
              <tr>
                <th>Caller</th>
                <th>Callee</th>
                <th class="num">Calls</th>
                <th class="num">Rate</th>
                <th class="num">Error rate</th>
                <th class="num">p95</th>
              </tr>
            </thead>
            <tbody>
              {data.edges.map((e) => (
                <tr key={`${e.parent}->${e.child}`}>
                  <td>{e.parent}</td>
                  <td>
                    {e.child} {e.childKind === 'database' && <span class="muted">(database)</span>}
                  </td>
                  <td class="num">{e.callCount}</td>
                  <td class="num">{formatRate(e.callCount / windowSeconds)}</td>
                  <td class={`num ${e.errorCount ? 'text-error' : ''}`}>
                    {formatPercent(e.callCount ? e.errorCount / e.callCount : 0)}
                  </td>
                  <td class="num">{e.p95Us !== undefined ? formatDuration(e.p95Us) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}
