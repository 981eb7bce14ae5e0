/**
 * The OTLP/JSON encoder against the published mapping (OTLP spec §JSON Protobuf Encoding):
 * hex trace/span ids (not base64), lowerCamelCase keys, enum fields as integers, 64-bit integers
 * as decimal strings; and against OpenTelemetry JS's JsonTraceSerializer for the same spans.
 */
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { describe, expect, it } from 'vitest'
import { epochNanos } from '../src/clock.js'
import { JsonWriter } from '../src/export/json-writer.js'
import { encodeTraceRequestJson, writeTraceRequestJson } from '../src/export/otlp-json.js'
import { encodeTraceRequest, writeTraceRequest } from '../src/export/otlp-proto.js'
import { ProtoWriter } from '../src/export/proto-writer.js'
import { spanLimitsFromEnv } from '../src/limits.js'
import { decodeTraceRequestJson } from '../src/otlp/decode-json.js'
import { decodeTraceRequestProto } from '../src/otlp/decode-proto.js'
import { type ReadableSpan, RecordingSpan, type SpanContext, SpanKind } from '../src/span.js'
import { asOtelSpans, httpScope, resource, sampleSpans } from './export-sample-spans.js'

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

  it('writes times of every number of digits (1970 to after 2286) alike in JSON and protobuf', () => {
    const owner = { limits: spanLimitsFromEnv({}), resource, scope: httpScope, onEnd() {} }
    const epochMs = [0.5, 7, 123_456.789, 1e8 + 0.25, 999_999_999_999.5, 1e12, Date.now(), 1e13 + 3, 1.5e13]
    const spans = epochMs.map((ms, i) => {
      const span = new RecordingSpan(
        owner,
        { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: `a2fb4a1d1a96d31${i}`, traceFlags: 1 },
        'span',
        SpanKind.INTERNAL,
        undefined,
        ms - performance.timeOrigin,
      )
      span.end(ms + 1.5)
      return span
    })
    const decoded = decodeTraceRequestJson(encodeTraceRequestJson(spans))
    if (!decoded.ok) throw new Error(decoded.error.message)
    // the protobuf encoder writes the same nanoseconds as fixed64 integers, with no decimal digits
    expect(decodeTraceRequestProto(encodeTraceRequest(spans))).toEqual(decoded)
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

  it('writes names past the name cache (long and many names, every kind)', () => {
    const spans: ReadableSpan[] = []
    for (let i = 0; i < 1100; i++) {
      const s = sampleSpans()[i % 3] as ReadableSpan & { name: string; kind: SpanKind }
      s.name = i % 2 ? `op "${i}" ${'x'.repeat(i % 400)}` : `op ${i}`
      s.kind = (i % 5) as SpanKind
      spans.push(s)
    }
    const json = decodeTraceRequestJson(encodeTraceRequestJson(spans))
    if (!json.ok) throw new Error(json.error.message)
    const decoded = json.request.resourceSpans[0]!.scopeSpans.flatMap((scope) => scope.spans)
    const byId = new Map(decoded.map((d) => [d.spanId, d]))
    expect(decoded.length).toBeGreaterThan(0)
    for (const s of spans.slice(-3)) expect(byId.get(s.spanContext().spanId)?.name).toBe(s.name)
    expect(json).toEqual(decodeTraceRequestProto(encodeTraceRequest(spans)))
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

  it('writes every id right when traces interleave and ids share the characters the id cache looks at', () => {
    const owner = { limits: spanLimitsFromEnv({}), resource, scope: httpScope, onEnd() {} }
    const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')
    // ids that agree on their first two and last two characters (one cache slot, one fingerprint)
    const traceIds = Array.from({ length: 24 }, (_, t) => `ab${hex(t * 7919, 28)}cd`)
    const spanId = (t: number, k: number) => `ab${hex(t * 100 + k, 12)}cd`
    const spans: ReadableSpan[] = []
    for (let k = 0; k < 5; k++) {
      for (let t = 0; t < traceIds.length; t++) {
        // a parent context made apart from the parent span's own: equal ids, distinct strings
        const parentId = k === 0 ? undefined : `${spanId(t, 0).slice(0, 8)}${spanId(t, 0).slice(8)}`
        const parent: SpanContext | undefined = parentId
          ? { traceId: traceIds[t] as string, spanId: parentId, traceFlags: 1 }
          : undefined
        const span = new RecordingSpan(
          owner,
          { traceId: traceIds[t] as string, spanId: spanId(t, k), traceFlags: 1 },
          `span ${t}.${k}`,
          SpanKind.INTERNAL,
          parent,
          1 + k,
        )
        span.setAttribute('port', 8000 + (t % 3))
        span.setAttribute('ok', t % 2 === 0)
        span.end(performance.timeOrigin + 10 + k)
        spans.push(span)
      }
    }
    for (let round = 0; round < 2; round++) {
      const json = decodeTraceRequestJson(encodeTraceRequestJson(spans))
      const proto = decodeTraceRequestProto(encodeTraceRequest(spans))
      if (!json.ok) throw new Error(json.error.message)
      expect(proto).toEqual(json)
      const decoded = json.request.resourceSpans[0]!.scopeSpans[0]!.spans
      expect(decoded).toHaveLength(spans.length)
      decoded.forEach((d, i) => {
        const s = spans[i]!
        expect(d.traceId).toBe(s.spanContext().traceId)
        expect(d.spanId).toBe(s.spanContext().spanId)
        expect(d.parentSpanId || undefined).toBe(s.parentSpanContext?.spanId)
        expect(d.attributes.port).toBe(s.attributes.port)
        expect(d.attributes.ok).toBe(s.attributes.ok)
      })
      spans.reverse() // the second batch meets the ids in another order
    }
  })

  it('stays exact when the integer and boolean attribute caches fill up', () => {
    const spans: ReadableSpan[] = []
    for (let i = 0; i < 300; i++) {
      const s = sampleSpans()[3] as ReadableSpan & { attributes: Obj }
      s.attributes['http.response.status_code'] = 100 + i
      s.attributes.negative = -i - 1
      s.attributes[`flag.${i % 70}`] = i % 3 === 0
      spans.push(s)
    }
    const json = decodeTraceRequestJson(encodeTraceRequestJson(spans))
    const proto = decodeTraceRequestProto(encodeTraceRequest(spans))
    if (!json.ok) throw new Error(json.error.message)
    json.request.resourceSpans[0]!.scopeSpans[0]!.spans.forEach((s, i) => {
      expect(s.attributes['http.response.status_code']).toBe(100 + i)
      expect(s.attributes.negative).toBe(-i - 1)
      expect(s.attributes[`flag.${i % 70}`]).toBe(i % 3 === 0)
    })
    expect(json).toEqual(proto)
  })

  it('stays exact wherever a buffer boundary falls', () => {
    // a resource attribute of every length up to 300 moves every later byte across the writer's
    // buffer boundaries (1, 2, 4 KiB ...), so each write meets the end of a buffer somewhere
    for (let pad = 0; pad <= 300; pad++) {
      const owner = {
        limits: spanLimitsFromEnv({}),
        resource: { attributes: { 'service.name': 'x'.repeat(pad) } },
        scope: httpScope,
        onEnd() {},
      }
      const spans: ReadableSpan[] = []
      for (let i = 0; i < 6; i++) {
        const span = new RecordingSpan(
          owner,
          { traceId: `${i}bf92f3577b34da6a3ce929d0e0e473`, spanId: `${i}2fb4a1d1a96d31`, traceFlags: 1 },
          ['GET /users/:id', '', 'SELECT users', 'é'][i % 4] as string,
          (i % 5) as SpanKind,
          i % 2
            ? { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }
            : undefined,
          1000 + i,
        )
        span.setAttributes({ 'http.route': '/users/:id', 'server.port': 8080 + i, 'url.path': `/users/${i}` })
        if (i % 3 === 0) span.addEvent('retry', { attempt: i })
        span.end(performance.timeOrigin + 2000 + i)
        spans.push(span)
      }
      const json = encodeTraceRequestJson(spans)
      const proto = Buffer.from(encodeTraceRequest(spans))
      expect(JSON.parse(json).resourceSpans[0].scopeSpans[0].spans).toHaveLength(6)
      expect(Buffer.from(writeTraceRequestJson(new JsonWriter(1024), spans)).toString()).toBe(json)
      expect(Buffer.from(writeTraceRequest(new ProtoWriter(1024), spans))).toEqual(proto)
    }
  })
})
