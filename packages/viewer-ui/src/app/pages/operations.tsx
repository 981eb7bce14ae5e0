import { useEffect, useMemo, useState } from 'preact/hooks'
import { histogram, parseSlo, sloReportFromCounts } from '../../analysis/index.js'
import { api, type ConfiguredSlo, type OperationDurations, type OperationRed } from '../api.js'
import { LineChart } from '../components/chart.js'
import { formatDuration, formatPercent, formatRate } from '../format.js'
import { query, type Route, setParams } from '../router.js'
import { useServices } from './search.js'

/** Per service and operation: rate, errors and latency percentiles over time, a latency histogram and an SLO. */
export function OperationsPage(props: { route: Route }) {
  const { params } = props.route
  const services = useServices()
  const service = params.get('service') ?? services[0] ?? ''
  const operation = params.get('operation') ?? ''
  const lookback = params.get('lookback') ?? '1h'
  const [red, setRed] = useState<OperationRed[]>()
  const [samples, setSamples] = useState<OperationDurations>()
  const [error, setError] = useState<string>()

  useEffect(() => {
    if (!service) return
    let stopped = false
    const load = () =>
      api.red(query({ service, lookback, buckets: 40 })).then(
        (r) => !stopped && setRed(r.operations),
        (e: Error) => !stopped && setError(e.message),
      )
    void load()
    const timer = setInterval(load, 5000)
    return () => {
      stopped = true
      clearInterval(timer)
    }
  }, [service, lookback])

  const current = red?.find((o) => o.operation === operation)
  const [configured, setConfigured] = useState<ConfiguredSlo[]>([])
  useEffect(() => {
    api.status().then(
      (s) => setConfigured(Array.isArray(s.slos) ? s.slos : []),
      () => setConfigured([]),
    )
  }, [])
  const sloText = params.get('slo') ?? ''
  // the URL wins; else an SLO the viewer was started with (--slo)
  const fromViewer = configured.find(
    (c) => c.operation === operation && (c.service === undefined || c.service === service),
  )
  const slo = sloText
    ? parseSlo(`${operation}=${sloText}`)
    : fromViewer && { operation, thresholdUs: fromViewer.thresholdUs, target: fromViewer.target }
  const thresholdUs = slo?.thresholdUs
  // the durations of this operation's own spans (not of the traces containing it), with breaches of
  // the SLO threshold counted by the viewer over every span in the window
  useEffect(() => {
    setSamples(undefined)
    if (!service || !operation) return
    let stopped = false
    api
      .durations(
        query({ service, operation, lookback, threshold: thresholdUs === undefined ? undefined : `${thresholdUs}us` }),
      )
      .then(
        (d) => !stopped && setSamples(d),
        () => !stopped && setSamples(undefined),
      )
    return () => {
      stopped = true
    }
  }, [service, operation, lookback, thresholdUs])
  const durations = samples?.durationsUs ?? []
  const bins = useMemo(() => histogram(samples?.durationsUs ?? [], 28), [samples])
  const report =
    slo && samples?.total && samples.breaches !== undefined && samples.thresholdUs === slo.thresholdUs
      ? sloReportFromCounts(samples.total, samples.breaches, slo.thresholdUs, slo.target)
      : undefined

  const charts = useMemo(() => {
    if (!current) return undefined
    const xs = current.buckets.map((b) => (b.startUs + b.endUs) / 2 / 1e6)
    const ms = (v: number | null) => (v === null ? null : v)
    return {
      xs,
      rate: [{ label: 'requests/s', color: '#4e79a7', values: current.buckets.map((b) => b.rate) }],
      errors: [
        { label: 'error rate', color: '#e15759', values: current.buckets.map((b) => (b.count ? b.errorRate : null)) },
      ],
      latency: [
        { label: 'p50', color: '#59a14f', values: current.buckets.map((b) => ms(b.p50)) },
        { label: 'p95', color: '#f28e2b', values: current.buckets.map((b) => ms(b.p95)) },
        { label: 'p99', color: '#e15759', values: current.buckets.map((b) => ms(b.p99)) },
      ],
    }
  }, [current])

  return (
    <div class="page operations-page">
      <div class="page-head">
        <h1>Operations</h1>
        <select
          value={service}
          onChange={(e) => setParams({ service: (e.currentTarget as HTMLSelectElement).value, operation: undefined })}
        >
          {services.map((s) => (
            <option key={s} value={s}>
              {s}
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
      {error && <div class="banner error">{error}</div>}
      <div class="card">
        <table class="grid-table clickable" data-testid="operations-table">
          <thead>
            <tr>
              <th>Operation</th>
              <th>Kind</th>
              <th class="num">Count</th>
              <th class="num">Rate</th>
              <th class="num">Error rate</th>
              <th class="num">p50</th>
              <th class="num">p95</th>
              <th class="num">p99</th>
            </tr>
          </thead>
          <tbody>
            {(red ?? []).map((o) => (
              <tr
                key={`${o.operation}/${o.spanKind}`}
                class={o.operation === operation ? 'selected' : ''}
                onClick={() => setParams({ operation: o.operation })}
              >
                <td>{o.operation}</td>
                <td class="muted">{o.spanKind}</td>
                <td class="num">{o.total.count}</td>
                <td class="num">{formatRate(o.total.rate)}</td>
                <td class={`num ${o.total.errorCount ? 'text-error' : ''}`}>{formatPercent(o.total.errorRate)}</td>
                <td class="num">{o.total.p50 === null ? '—' : formatDuration(o.total.p50)}</td>
                <td class="num">{o.total.p95 === null ? '—' : formatDuration(o.total.p95)}</td>
                <td class="num">{o.total.p99 === null ? '—' : formatDuration(o.total.p99)}</td>
              </tr>
            ))}
            {red && red.length === 0 && (
              <tr>
                <td colSpan={8} class="muted">
                  No spans for this service in the window.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {!operation && red && red.length > 0 && <p class="muted">Pick an operation to see its charts.</p>}
      {charts && (
        <>
          <h2 class="section-title">{operation}</h2>
          <div class="chart-grid">
            <LineChart title="Rate" xs={charts.xs} series={charts.rate} format={formatRate} testId="chart-rate" />
            <LineChart
              title="Error rate"
              xs={charts.xs}
              series={charts.errors}
              format={formatPercent}
              testId="chart-errors"
            />
            <LineChart
              title="Latency"
              xs={charts.xs}
              series={charts.latency}
              format={formatDuration}
              testId="chart-latency"
            />
          </div>
          <div class="chart-grid two">
            <section class="card" data-testid="histogram">
              <h3>Latency histogram</h3>
              <Histogram bins={bins} thresholdUs={slo?.thresholdUs} />
              <p class="muted small">
                {samples && samples.total > durations.length
                  ? `Durations of the ${durations.length} most recent of ${samples.total} ${operation} spans.`
                  : `Durations of the ${durations.length} ${operation} spans in the window.`}
              </p>
            </section>
            <section class="card slo" data-testid="slo">
              <h3>Service level objective</h3>
              <form
                onSubmit={(e) => {
                  e.preventDefault()
                  const value = (e.currentTarget as HTMLFormElement).elements.namedItem('slo') as HTMLInputElement
                  setParams({ slo: value.value.trim() })
                }}
              >
                <input name="slo" placeholder="200ms@99%" value={sloText} />
                <button class="button" type="submit">
                  Set
                </button>
              </form>
              {sloText && !slo && <p class="text-error small">Write it as threshold@target, e.g. 200ms@99%.</p>}
              {report && (
                <dl class="facts">
                  <div>
                    <dt>Objective</dt>
                    <dd>
                      {formatPercent(report.target)} under {formatDuration(report.thresholdUs)}
                    </dd>
                  </div>
                  <div>
                    <dt>Breach rate</dt>
                    <dd class={report.met ? '' : 'text-error'} data-testid="slo-breach-rate">
                      {formatPercent(report.breachRate)} ({report.breaches}/{report.total})
                    </dd>
                  </div>
                  <div>
                    <dt>Budget burn</dt>
                    <dd class={report.burnRate > 1 ? 'text-error' : ''}>{report.burnRate.toFixed(2)}×</dd>
                  </div>
                  <div>
                    <dt>Status</dt>
                    <dd>
                      {report.met ? <span class="badge ok">met</span> : <span class="badge error">breached</span>}
                    </dd>
                  </div>
                </dl>
              )}
            </section>
          </div>
        </>
      )}
    </div>
  )
}

function Histogram(props: { bins: ReturnType<typeof histogram>; thresholdUs: number | undefined }) {
  const { bins } = props
  if (!bins.length) return <p class="muted">No samples.</p>
  const W = 900
  const H = 150
  const max = Math.max(...bins.map((b) => b.count))
  const bw = W / bins.length
  return (
    <svg viewBox={`0 0 ${W} ${H + 20}`} class="histogram">
      <title>Latency histogram</title>
      {bins.map((b, i) => {
        const h = (b.count / max) * H
        const over = props.thresholdUs !== undefined && b.fromUs >= props.thresholdUs
        return (
          <rect key={i} x={i * bw + 1} y={H - h} width={bw - 2} height={h} class={over ? 'bin over' : 'bin'}>
            <title>{`${formatDuration(b.fromUs)}–${formatDuration(b.toUs)}: ${b.count}`}</title>
          </rect>
        )
      })}
      <text x={0} y={H + 15} class="axis">
        {formatDuration(bins[0]!.fromUs)}
      </text>
      <text x={W} y={H + 15} text-anchor="end" class="axis">
        {formatDuration(bins[bins.length - 1]!.toUs)}
      </text>
    </svg>
  )
}
