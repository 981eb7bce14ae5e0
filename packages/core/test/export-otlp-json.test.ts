/**
 * The OTLP/JSON encoder against the published mapping (OTLP spec §JSON Protobuf Encoding):
 * hex trace/span ids (not base64), lowerCamelCase keys, enum fields as integers, 64-bit integers
 * as decimal strings; and against OpenTelemetry JS's JsonTraceSerializer for the same spans.
 */
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { describe, expect, it } from 'vitest'
import { epochNanos } from '../src/clock.js'
import { encodeTraceRequestJson } from '../src/export/otlp-json.js'
import { encodeTraceRequest } from '../src/export/otlp-proto.js'
import { decodeTraceRequestJson } from '../src/otlp/decode-json.js'
import { decodeTraceRequestProto } from '../src/otlp/decode-proto.js'
import type { ReadableSpan } from '../src/span.js'
import { asOtelSpans, sampleSpans } from './export-sample-spans.js'

type Obj = Record<string, unknown>

function keysDeep(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, into)
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k)
      keysDeep(v, into)
    }
  }
  return into
}

describe('OTLP/JSON encoder', () => {
  it('is valid JSON using only lowerCamelCase OTLP field names', () => {
    const json = JSON.parse(encodeTraceRequestJson(sampleSpans()))
    const keys = keysDeep(json)
    for (const key of keys) {
      // attribute keys live in "key" values, not in object keys, so every object key is a field name
      expect(key).toMatch(/^[a-z][a-zA-Z]*$/)
    }
    expect([...keys]).toEqual(
      expect.arrayContaining([
        'resourceSpans',
        'scopeSpans',
        'traceId',
        'parentSpanId',
        'startTimeUnixNano',
        'droppedEventsCount',
        'stringValue',
        'intValue',
        'doubleValue',
        'arrayValue',
      ]),
    )
  })

  it('writes ids as hex, enums as integers, 64-bit integers as strings', () => {
    const spans = sampleSpans()
    const json = JSON.parse(encodeTraceRequestJson(spans))
    const s = json.resourceSpans[0].scopeSpans[0].spans[0] as Obj
    expect(s.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(s.spanId).toBe('a2fb4a1d1a96d312')
    expect(s.parentSpanId).toBe('00f067aa0ba902b7')
    expect(s.kind).toBe(2)
    expect(s.flags).toBe(0x303)
    expect(s.status).toEqual({ code: 2, message: 'Internal Server Error' })
    expect(s.startTimeUnixNano).toBe(epochNanos(spans[0]!.startTime).toString())
    expect(s.endTimeUnixNano).toBe(epochNanos(spans[0]!.endTime).toString())
    const attrs = s.attributes as Array<{ key: string; value: Obj }>
    expect(attrs.find((a) => a.key === 'http.response.status_code')?.value).toEqual({ intValue: '500' })
    expect(attrs.find((a) => a.key === 'sample.ratio')?.value).toEqual({ doubleValue: 0.25 })
    const events = s.events as Array<{ name: string; attributes: Array<{ key: string; value: Obj }> }>
    expect(events[1]?.attributes.find((a) => a.key === 'tags')?.value).toEqual({
      arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] },
    })
  })

  it('times match epochNanos for every span and event, across many time values', () => {
    const spans = sampleSpans()
    const text = encodeTraceRequestJson(spans)
    const decoded = decodeTraceRequestJson(text)
    if (!decoded.ok) throw new Error(decoded.error.message)
    const all = decoded.request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
    for (const s of all) {
      const original = byId.get(s.spanId) as ReadableSpan
      expect(s.startTimeUnixNano).toBe(epochNanos(original.startTime))
      expect(s.endTimeUnixNano).toBe(epochNanos(original.endTime))
    }
  })

  it('says the same as the protobuf encoding (both decoded to the plain model)', () => {
    const spans = sampleSpans()
    expect(decodeTraceRequestJson(encodeTraceRequestJson(spans))).toEqual(
      decodeTraceRequestProto(encodeTraceRequest(spans)),
    )
  })

  it('says the same as OpenTelemetry JS JsonTraceSerializer for the same spans', () => {
    const spans = sampleSpans()
    const theirs = new TextDecoder().decode(
      JsonTraceSerializer.serializeRequest(asOtelSpans(spans) as never) as Uint8Array,
    )
    const a = decodeTraceRequestJson(encodeTraceRequestJson(spans))
    const b = decodeTraceRequestJson(theirs)
    expect(b.ok).toBe(true)
    expect(a).toEqual(b)
  })

  it('escapes names and values so any string round-trips', () => {
    const spans = sampleSpans()
    const s = spans[3] as ReadableSpan & { name: string; attributes: Obj }
    s.name = 'quote " backslash \\ newline \n nul \u0000 emoji 🎉 lone \ud800'
    s.attributes.weird = '\u2028\u2029</script>'
    const json = JSON.parse(encodeTraceRequestJson([s]))
    expect(json.resourceSpans[0].scopeSpans[0].spans[0].name).toBe(s.name)
  })

  it('stays exact when attribute caches fill up (high-cardinality values, many keys)', () => {
    const spans: ReadableSpan[] = []
    for (let i = 0; i < 300; i++) {
      const s = sampleSpans()[3] as ReadableSpan & { attributes: Obj }
      s.attributes['url.path'] = `/users/${i}`
      s.attributes[`key.${i % 97}`] = `value ${i % 5}`
      spans.push(s)
    }
    const json = decodeTraceRequestJson(encodeTraceRequestJson(spans))
    const proto = decodeTraceRequestProto(encodeTraceRequest(spans))
    if (!json.ok) throw new Error(json.error.message)
    const decoded = json.request.resourceSpans[0]!.scopeSpans[0]!.spans
    decoded.forEach((s, i) => {
      expect(s.attributes['url.path']).toBe(`/users/${i}`)
      expect(s.attributes[`key.${i % 97}`]).toBe(`value ${i % 5}`)
    })
    expect(json).toEqual(proto)
  })
})
