import { describe, expect, it } from 'vitest'
import { ROOT_CONTEXT } from '../context.js'
import { isValidTraceId } from '../ids.js'
import { NonRecordingSpan, TraceFlags } from '../span.js'
import { contextWithSpan, spanContextFrom } from '../trace-context.js'
import { headerGetter, headerSetter } from './propagator.js'
import { xrayIdGenerator, xrayPropagator } from './xray.js'

const ROOT = '1-5759e988-bd862e3fe1be46a994272793'
const TID = '5759e988bd862e3fe1be46a994272793'
const SID = '53995c3f42cd8ad8'
const xray = xrayPropagator()

function extract(header: unknown) {
  return xray.extract(ROOT_CONTEXT, { 'X-Amzn-Trace-Id': header }, headerGetter)
}

// Spec: AWS X-Ray developer guide, "Tracing header" and "Trace ID format".
describe('X-Amzn-Trace-Id (X-Ray §Tracing header)', () => {
  const valid: Array<[string, string, number]> = [
    ['Root, Parent, Sampled=1', `Root=${ROOT};Parent=${SID};Sampled=1`, 1],
    ['Sampled=0', `Root=${ROOT};Parent=${SID};Sampled=0`, 0],
    ['Sampled=? (receiver decides)', `Root=${ROOT};Parent=${SID};Sampled=?`, 0],
    ['no Sampled', `Root=${ROOT};Parent=${SID}`, 0],
    ['any order, OWS', ` Parent=${SID} ; Sampled=1;Root=${ROOT} `, 1],
    ['Self from a load balancer', `Self=1-67891234-12456789abcdef012345678;Root=${ROOT};Parent=${SID};Sampled=1`, 1],
    ['Lineage and unknown keys', `Root=${ROOT};Parent=${SID};Sampled=1;Lineage=a87bd80c:1|68fd508a:5;Foo=bar`, 1],
  ]
  it.each(valid)('%s', (_, header, flags) => {
    expect(spanContextFrom(extract(header))).toMatchObject({
      traceId: TID,
      spanId: SID,
      traceFlags: flags,
      isRemote: true,
    })
  })

  it.each([
    ['Root only (no Parent)', `Root=${ROOT}`],
    ['Root version 2', `Root=2-5759e988-bd862e3fe1be46a994272793;Parent=${SID}`],
    ['short Root', `Root=1-5759e98-bd862e3fe1be46a994272793;Parent=${SID}`],
    ['upper-case hex', `Root=${ROOT.toUpperCase()};Parent=${SID}`],
    ['bad Parent', `Root=${ROOT};Parent=xyz`],
    ['bad Sampled', `Root=${ROOT};Parent=${SID};Sampled=yes`],
    ['two Roots', `Root=${ROOT};Root=${ROOT};Parent=${SID}`],
    ['field without "="', `Root=${ROOT};Parent=${SID};oops`],
    ['all-zero parent', `Root=${ROOT};Parent=0000000000000000`],
  ])('%s → new trace', (_, header) => {
    expect(spanContextFrom(extract(header))).toBeUndefined()
  })

  it('writes Root/Parent/Sampled, keeps Lineage and unknown keys for the same trace, drops Self', () => {
    const ctx = extract(`Self=1-1-1;Root=${ROOT};Parent=${SID};Sampled=1;Lineage=a87bd80c:1;Foo=bar`)
    const child = contextWithSpan(
      ctx,
      new NonRecordingSpan({ traceId: TID, spanId: 'aaaaaaaaaaaaaaaa', traceFlags: 1 }),
    )
    const out: Record<string, string> = {}
    xray.inject(child, out, headerSetter)
    expect(out['x-amzn-trace-id']).toBe(`Root=${ROOT};Parent=aaaaaaaaaaaaaaaa;Sampled=1;Lineage=a87bd80c:1;Foo=bar`)
    const other = contextWithSpan(ctx, new NonRecordingSpan({ traceId: 'b'.repeat(32), spanId: SID, traceFlags: 0 }))
    const out2: Record<string, string> = {}
    xray.inject(other, out2, headerSetter)
    expect(out2['x-amzn-trace-id']).toBe(`Root=1-bbbbbbbb-${'b'.repeat(24)};Parent=${SID};Sampled=0`)
  })

  it('round-trips', () => {
    const header = `Root=${ROOT};Parent=${SID};Sampled=1`
    const out: Record<string, string> = {}
    xray.inject(extract(header), out, headerSetter)
    expect(out['x-amzn-trace-id']).toBe(header)
  })
})

describe('xrayIdGenerator (X-Ray §Trace ID format)', () => {
  it('puts the epoch seconds in the first 4 bytes', () => {
    const before = Math.floor(Date.now() / 1000)
    const id = xrayIdGenerator.generateTraceId()
    const after = Math.floor(Date.now() / 1000)
    expect(isValidTraceId(id)).toBe(true)
    const epoch = Number.parseInt(id.slice(0, 8), 16)
    expect(epoch).toBeGreaterThanOrEqual(before)
    expect(epoch).toBeLessThanOrEqual(after)
    expect(xrayIdGenerator.generateSpanId()).toMatch(/^[0-9a-f]{16}$/)
    expect(new Set(Array.from({ length: 100 }, () => xrayIdGenerator.generateTraceId())).size).toBe(100)
  })
  it('ids go out as a valid X-Ray root', () => {
    const traceId = xrayIdGenerator.generateTraceId()
    const out: Record<string, string> = {}
    xray.inject(
      contextWithSpan(ROOT_CONTEXT, new NonRecordingSpan({ traceId, spanId: SID, traceFlags: TraceFlags.SAMPLED })),
      out,
      headerSetter,
    )
    expect(out['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/)
  })
})
