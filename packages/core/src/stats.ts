/** Counters the SDK keeps about itself; read them with `stats()`. */
export interface TracingStats {
  /** Spans started and recorded (sampled or RECORD-only). */
  spansStarted: number
  /** Spans that reached a processor's export queue. */
  spansQueued: number
  /** Spans an exporter accepted. */
  spansExported: number
  /** Spans dropped: queue full, export failed for good, or ended after shutdown. */
  spansDropped: number
  /** Export calls that failed or timed out. */
  exportFailures: number
  /** Calls on a span after it ended (ignored). */
  callsOnEndedSpans: number
  /** Attributes, events or links dropped by limits or invalid values. */
  dataDropped: number
}

export const counters: TracingStats = {
  spansStarted: 0,
  spansQueued: 0,
  spansExported: 0,
  spansDropped: 0,
  exportFailures: 0,
  callsOnEndedSpans: 0,
  dataDropped: 0,
}

/** A snapshot of the SDK's counters. */
export function stats(): TracingStats {
  return { ...counters }
}
