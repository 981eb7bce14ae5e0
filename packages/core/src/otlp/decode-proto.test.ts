import { describe, expect, it } from 'vitest'
import { sampleSpans } from '../../test/export-sample-spans.js'
import { epochNanos } from '../clock.js'
import { encodeTraceRequest } from '../export/otlp-proto.js'
import { decodeTraceRequestProto } from './decode-proto.js'

describe('decodeTraceRequestProto', () => {
  it('decodes every field into the plain model', () => {
    const spans = sampleSpans()
    const result = decodeTraceRequestProto(encodeTraceRequest(spans))
    if (!result.ok) throw new Error(result.error.message)
    expect(result.rejectedSpans).toBe(0)
    const rs = result.request.resourceSpans[0]!
    expect(rs.resource.attributes).toEqual({
      'service.name': 'checkout',
      'service.version': '1.2.3',
      'process.pid': 4242,
      'host.name': 'box-1',
    })
    expect(rs.scopeSpans[0]!.scope).toEqual({
      name: '@threadline/express',
      version: '0.1.0',
      attributes: {},
      droppedAttributesCount: 0,
    })
    const s = rs.scopeSpans[0]!.spans[0]!
    expect(s).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: 'a2fb4a1d1a96d312',
      parentSpanId: '00f067aa0ba902b7',
      traceState: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      flags: 0x303,
      name: 'GET /users/:id',
      kind: 2,
      startTimeUnixNano: epochNanos(spans[0]!.startTime),
      endTimeUnixNano: epochNanos(spans[0]!.endTime),
      droppedAttributesCount: 2,
      droppedEventsCount: 1,
      status: { code: 2, message: 'Internal Server Error' },
    })
    expect(s.attributes['sample.ratio']).toBe(0.25)
    expect(s.events[1]!.attributes).toEqual({ attempt: -3, tags: ['a', 'b'], ok: [true, false], scores: [1.5, 2] })
    expect(s.links[0]).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      flags: 0x301,
    })
    const root = result.request.resourceSpans[1]!.scopeSpans[0]!.spans[0]!
    expect(root.parentSpanId).toBe('')
    expect(root.status).toEqual({ code: 0, message: '' })
  })

  it('returns TL_ERR_OTLP_TRUNCATED for every truncation of a valid message, never throwing', () => {
    const bytes = encodeTraceRequest(sampleSpans())
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const result = decodeTraceRequestProto(bytes.subarray(0, cut))
      if (result.ok) continue // a cut between top-level fields is a valid, shorter message
      expect(['TL_ERR_OTLP_TRUNCATED', 'TL_ERR_OTLP_WIRE_TYPE']).toContain(result.error.code)
    }
  })

  it('rejects non-protobuf input with a reason', () => {
    const json = new TextEncoder().encode('{"resourceSpans":[]}')
    const result = decodeTraceRequestProto(json)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.message).toMatch(/wire type|truncated/)
    const random = new Uint8Array(4096)
    let seed = 7
    for (let i = 0; i < random.length; i++) random[i] = seed = (seed * 1103515245 + 12345) & 0xff
    expect(() => decodeTraceRequestProto(random)).not.toThrow()
    expect(decodeTraceRequestProto('nope' as never)).toMatchObject({ ok: false, error: { code: 'TL_ERR_OTLP_SHAPE' } })
  })

  it('skips unknown fields (forward compatibility)', () => {
    const bytes = encodeTraceRequest(sampleSpans().slice(3))
    // field 99 (varint 5) and field 98 (bytes "hi") prepended at top level
    const extra = Uint8Array.from([0x98, 0x06, 0x05, 0x92, 0x06, 0x02, 0x68, 0x69])
    const result = decodeTraceRequestProto(Uint8Array.from([...extra, ...bytes]))
    expect(result.ok && result.request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name).toBe('charge')
  })

  it('enforces limits: bytes, spans, nesting depth', () => {
    const bytes = encodeTraceRequest(sampleSpans())
    expect(decodeTraceRequestProto(bytes, { maxBytes: 10 })).toMatchObject({
      ok: false,
      error: { code: 'TL_ERR_OTLP_TOO_LARGE' },
    })
    expect(decodeTraceRequestProto(bytes, { maxSpans: 3 })).toMatchObject({
      ok: false,
      error: { code: 'TL_ERR_OTLP_TOO_MANY' },
    })
    expect(decodeTraceRequestProto(bytes, { maxValueDepth: 0 })).toMatchObject({
      ok: false,
      error: { code: 'TL_ERR_OTLP_TOO_DEEP' },
    })
    // 10 000 nested array_value levels: refused, not a stack overflow
    let nested = Uint8Array.from([0x0a, 0x01, 0x78]) // AnyValue{string_value:"x"}
    for (let i = 0; i < 200; i++) {
      const arrayValue = Uint8Array.from([0x0a, ...varint(nested.length), ...nested]) // ArrayValue{values:[...]}
      nested = Uint8Array.from([0x2a, ...varint(arrayValue.length), ...arrayValue]) // AnyValue{array_value}
    }
    const kv = Uint8Array.from([0x0a, 0x01, 0x6b, 0x12, ...varint(nested.length), ...nested])
    const resource = Uint8Array.from([0x0a, ...varint(kv.length), ...kv])
    const rs = Uint8Array.from([0x0a, ...varint(resource.length), ...resource])
    const request = Uint8Array.from([0x0a, ...varint(rs.length), ...rs])
    expect(decodeTraceRequestProto(request)).toMatchObject({ ok: false, error: { code: 'TL_ERR_OTLP_TOO_DEEP' } })
  })

  it('leaves out spans with invalid ids and counts them (partial success)', () => {
    const spans = sampleSpans()
    const bytes = encodeTraceRequest(spans.slice(3))
    const broken = Buffer.from(bytes)
    const at = broken.indexOf(Buffer.from('5bf92f3577b34da6a3ce929d0e0e4736', 'hex'))
    broken.fill(0, at, at + 16)
    const result = decodeTraceRequestProto(broken)
    expect(result).toMatchObject({ ok: true, rejectedSpans: 1 })
    if (result.ok) {
      expect(result.request.resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(0)
      expect(result.rejectReason).toMatch(/invalid trace id/)
    }
  })

  it('keeps a "__proto__" attribute as data', () => {
    const key = new TextEncoder().encode('__proto__')
    const value = Uint8Array.from([0x0a, 0x01, 0x78])
    const kv = Uint8Array.from([0x0a, key.length, ...key, 0x12, value.length, ...value])
    const resource = Uint8Array.from([0x0a, kv.length, ...kv])
    const rs = Uint8Array.from([0x0a, resource.length, ...resource])
    const result = decodeTraceRequestProto(Uint8Array.from([0x0a, rs.length, ...rs]))
    if (!result.ok) throw new Error(result.error.message)
    const attrs = result.request.resourceSpans[0]!.resource.attributes
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype)
    expect(Object.keys(attrs)).toEqual(['__proto__'])
  })
})

function varint(n: number): number[] {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return out
}
