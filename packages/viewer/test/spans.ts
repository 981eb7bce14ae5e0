import type { StoredSpan } from '../src/index.js'

let counter = 0

/** A stored span with sensible defaults; ids are unique per call unless given. */
export function makeSpan(fields: Partial<StoredSpan> & { traceId: string }): StoredSpan {
  counter++
  const service = fields.service ?? 'svc'
  return {
    spanId: counter.toString(16).padStart(16, '0'),
    parentSpanId: undefined,
    service,
    name: 'op',
    kind: 'server',
    startUs: 1_700_000_000_000_000 + counter,
    durationUs: 1000,
    error: false,
    dbSystem: undefined,
    status: { code: fields.error ? 'ERROR' : 'UNSET' },
    attributes: {},
    events: [],
    links: [],
    resource: { 'service.name': service },
    ...fields,
  }
}

export function traceId(n: number): string {
  return n.toString(16).padStart(32, '0')
}
