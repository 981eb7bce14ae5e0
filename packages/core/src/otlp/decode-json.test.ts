import { describe, expect, it } from 'vitest'
import { decodeTraceRequestJson } from './decode-json.js'

const span = {
  traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
  spanId: '00f067aa0ba902b7',
  name: 'GET /',
  kind: 2,
  startTimeUnixNano: '1700000000000000001',
  endTimeUnixNano: 1700000000000000000,
  attributes: [
    { key: 'big', value: { intValue: '9223372036854775807' } },
    { key: 'small', value: { intValue: 7 } },
    { key: 'nan', value: { doubleValue: 'NaN' } },
    { key: 'map', value: { kvlistValue: { values: [{ key: 'a', value: { boolValue: true } }] } } },
    { key: 'raw', value: { bytesValue: 'AQID' } },
    { key: 'empty', value: {} },
  ],
  status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
}

describe('decodeTraceRequestJson', () => {
  it('decodes the OTLP JSON mapping, from text, bytes or a parsed object', () => {
    const request = {
      resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [span] }] }],
    }
    for (const input of [request, JSON.stringify(request), new TextEncoder().encode(JSON.stringify(request))]) {
      const result = decodeTraceRequestJson(input)
      if (!result.ok) throw new Error(result.error.message)
      const s = result.request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!
      expect(s.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
      expect(s.startTimeUnixNano).toBe(1700000000000000001n)
      expect(s.status).toEqual({ code: 2, message: 'boom' })
      expect(s.attributes.big).toBe('9223372036854775807')
      expect(s.attributes.small).toBe(7)
      expect(s.attributes.nan).toBeNaN()
      expect(s.attributes.map).toEqual({ a: true })
      expect(s.attributes.raw).toEqual(new Uint8Array([1, 2, 3]))
      expect(s.attributes.empty).toBeNull()
    }
  })

  it('accepts snake_case field names and base64 ids (protobuf JSON defaults)', () => {
    const result = decodeTraceRequestJson({
      resource_spans: [
        { scope_spans: [{ spans: [{ trace_id: 'S/kvNXezTaajzpKdDg5HNg==', span_id: 'APBnqguqArc=', name: 'x' }] }] },
      ],
    })
    expect(result.ok && result.request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    )
  })

  it('answers malformed input with a code and the path of the problem', () => {
    expect(decodeTraceRequestJson('{nope')).toMatchObject({ ok: false, error: { code: 'TL_ERR_OTLP_JSON' } })
    expect(decodeTraceRequestJson(42)).toMatchObject({ ok: false, error: { code: 'TL_ERR_OTLP_SHAPE' } })
    const bad = decodeTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...span, name: 5 }] }] }] })
    expect(bad).toMatchObject({ ok: false, error: { code: 'TL_ERR_OTLP_SHAPE' } })
    if (!bad.ok)
      expect(bad.error.message).toBe('resourceSpans[0].scopeSpans[0].spans[0].name must be a string, received number')
    expect(decodeTraceRequestJson({ resourceSpans: {} })).toMatchObject({ ok: false })
    expect(
      decodeTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...span, startTimeUnixNano: '-1' }] }] }] }),
    ).toMatchObject({ ok: false })
  })

  it('treats an empty object as an empty request', () => {
    expect(decodeTraceRequestJson({})).toEqual({ ok: true, request: { resourceSpans: [] }, rejectedSpans: 0 })
  })

  it('leaves out spans with invalid ids, with a reason', () => {
    const result = decodeTraceRequestJson({
      resourceSpans: [{ scopeSpans: [{ spans: [span, { ...span, spanId: '0000000000000000' }] }] }],
    })
    expect(result).toMatchObject({ ok: true, rejectedSpans: 1 })
    if (result.ok) expect(result.rejectReason).toMatch(/spans\[1\].*invalid span id/)
  })

  it('enforces limits and never overflows the stack on deep nesting', () => {
    let value: unknown = { stringValue: 'x' }
    for (let i = 0; i < 5000; i++) value = { arrayValue: { values: [value] } }
    const deep = { resourceSpans: [{ resource: { attributes: [{ key: 'k', value }] } }] }
    expect(decodeTraceRequestJson(deep)).toMatchObject({ ok: false, error: { code: 'TL_ERR_OTLP_TOO_DEEP' } })
    const many = { resourceSpans: [{ scopeSpans: [{ spans: [span, span, span] }] }] }
    expect(decodeTraceRequestJson(many, { maxSpans: 2 })).toMatchObject({
      ok: false,
      error: { code: 'TL_ERR_OTLP_TOO_MANY' },
    })
    expect(decodeTraceRequestJson(JSON.stringify(many), { maxBytes: 100 })).toMatchObject({
      ok: false,
      error: { code: 'TL_ERR_OTLP_TOO_LARGE' },
    })
  })
})
