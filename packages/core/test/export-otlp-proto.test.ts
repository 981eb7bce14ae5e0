/**
 * The OTLP/protobuf encoder checked with code Threadline did not write:
 * - protobufjs decodes our bytes with a schema transcribed from opentelemetry-proto
 *   (trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto,
 *   collector/trace/v1/trace_service.proto: the field numbers and types below);
 * - OpenTelemetry JS's own serializer (@opentelemetry/otlp-transformer ProtobufTraceSerializer)
 *   encodes the same spans; both byte streams must decode to the same message. (Not byte-for-byte:
 *   OTel JS also writes fields at their proto3 default, e.g. `dropped_attributes_count: 0`,
 *   which canonical proto3 encoders omit.)
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { epochNanos } from '../src/clock.js'
import { encodeTraceRequest } from '../src/export/otlp-proto.js'
import { decodeTraceRequestProto } from '../src/otlp/decode-proto.js'
import type { ReadableSpan } from '../src/span.js'
import { asOtelSpans, sampleSpans } from './export-sample-spans.js'

const kv = { KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } } }
const root = protobuf.Root.fromJSON({
  nested: {
    common: {
      nested: {
        AnyValue: {
          oneofs: {
            value: {
              oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'],
            },
          },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        ...kv,
        InstrumentationScope: {
          fields: {
            name: { type: 'string', id: 1 },
            version: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Resource: {
          fields: {
            attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
            droppedAttributesCount: { type: 'uint32', id: 2 },
          },
        },
        Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
        Event: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            name: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Link: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 4 },
            droppedAttributesCount: { type: 'uint32', id: 5 },
            flags: { type: 'fixed32', id: 6 },
          },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            parentSpanId: { type: 'bytes', id: 4 },
            flags: { type: 'fixed32', id: 16 },
            name: { type: 'string', id: 5 },
            kind: { type: 'int32', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
            droppedAttributesCount: { type: 'uint32', id: 10 },
            events: { rule: 'repeated', type: 'Event', id: 11 },
            droppedEventsCount: { type: 'uint32', id: 12 },
            links: { rule: 'repeated', type: 'Link', id: 13 },
            droppedLinksCount: { type: 'uint32', id: 14 },
            status: { type: 'Status', id: 15 },
          },
        },
        ScopeSpans: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            spans: { rule: 'repeated', type: 'Span', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
      },
    },
  },
})
const Request = root.lookupType('common.ExportTraceServiceRequest')

// biome-ignore lint/suspicious/noExplicitAny: protobufjs's toObject output is untyped JSON, walked freely here
type Json = any
type Decoded = Record<string, unknown>
function decodeWithProtobufjs(bytes: Uint8Array): Decoded {
  return Request.toObject(Request.decode(bytes), {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: true,
    arrays: true,
    oneofs: false,
  }) as Decoded
}

const hex = (base64: unknown) => Buffer.from(String(base64), 'base64').toString('hex')
describe('OTLP/protobuf encoder, read by independent decoders', () => {
  it('groups by resource then scope, as ExportTraceServiceRequest.resource_spans[].scope_spans[] (protobufjs)', () => {
    const msg = decodeWithProtobufjs(encodeTraceRequest(sampleSpans())) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string }> }
        scopeSpans: Array<{ scope: { name: string; version: string }; spans: unknown[] }>
      }>
    }
    expect(msg.resourceSpans).toHaveLength(2)
    const [first, second] = msg.resourceSpans
    expect(first?.resource.attributes.map((a) => a.key)).toEqual([
      'service.name',
      'service.version',
      'process.pid',
      'host.name',
    ])
    expect(first?.scopeSpans.map((s) => [s.scope.name, s.scope.version, s.spans.length])).toEqual([
      ['@threadline/express', '0.1.0', 2],
      ['@threadline/pg', '0.1.0', 1],
    ])
    expect(second?.scopeSpans.map((s) => s.spans.length)).toEqual([1])
  })

  it('writes every span field with the types trace.proto declares (protobufjs)', () => {
    const spans = sampleSpans()
    const server = spans[0] as ReadableSpan
    const msg = decodeWithProtobufjs(encodeTraceRequest(spans)) as Json
    const s = msg.resourceSpans[0].scopeSpans[0].spans[0]
    expect(hex(s.traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(hex(s.spanId)).toBe('a2fb4a1d1a96d312')
    expect(hex(s.parentSpanId)).toBe('00f067aa0ba902b7')
    expect(s.traceState).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')
    // flags: W3C flags 0x03 | HAS_IS_REMOTE 0x100 | IS_REMOTE 0x200 (the parent came from headers)
    expect(s.flags).toBe(0x303)
    expect(s.name).toBe('GET /users/:id')
    expect(s.kind).toBe(2) // SPAN_KIND_SERVER
    expect(s.startTimeUnixNano).toBe(epochNanos(server.startTime).toString())
    expect(s.endTimeUnixNano).toBe(epochNanos(server.endTime).toString())
    const attrs = Object.fromEntries(s.attributes.map((a: Json) => [a.key, a.value]))
    expect(attrs['http.request.method'].stringValue).toBe('GET')
    expect(attrs['http.response.status_code'].intValue).toBe('500')
    expect(attrs['sample.ratio'].doubleValue).toBe(0.25)
    expect(s.attributes).toHaveLength(5)
    expect(s.droppedAttributesCount).toBe(2) // limit 5: 'dropped.one' and 'sample.flags'
    expect(s.events.map((e: Json) => e.name)).toEqual(['exception', 'retry'])
    expect(s.droppedEventsCount).toBe(1)
    expect(s.events[0].timeUnixNano).toBe(epochNanos(server.events[0]!.time).toString())
    const exc = Object.fromEntries(s.events[0].attributes.map((a: Json) => [a.key, a.value.stringValue]))
    expect(exc['exception.message']).toBe('ünïcødé — 例外')
    const retry = Object.fromEntries(s.events[1].attributes.map((a: Json) => [a.key, a.value]))
    expect(retry.attempt.intValue).toBe('-3')
    expect(retry.tags.arrayValue.values.map((v: Json) => v.stringValue)).toEqual(['a', 'b'])
    expect(retry.ok.arrayValue.values.map((v: Json) => v.boolValue)).toEqual([true, false])
    expect(retry.scores.arrayValue.values.map((v: Json) => v.doubleValue ?? Number(v.intValue))).toEqual([1.5, 2])
    expect(s.links).toHaveLength(1)
    expect(hex(s.links[0].traceId)).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(hex(s.links[0].spanId)).toBe('b7ad6b7169203331')
    expect(s.links[0].flags).toBe(0x301)
    expect(s.links[0].attributes[0]).toEqual({ key: 'link.reason', value: { stringValue: 'batch' } })
    expect(s.status).toEqual({ code: 2, message: 'Internal Server Error' })

    const root = msg.resourceSpans[1].scopeSpans[0].spans[0]
    expect(root.parentSpanId).toBe('') // root span: no parent_span_id
    expect(root.flags).toBe(0x101) // local root: remote-ness known, not remote
    expect(root.kind).toBe(4) // SPAN_KIND_PRODUCER
    expect(root.status).toBeNull() // UNSET status is omitted
  })

  it('decodes to the same message as OpenTelemetry JS serializes for the same spans', () => {
    const spans = sampleSpans()
    const ours = decodeWithProtobufjs(encodeTraceRequest(spans))
    const theirs = decodeWithProtobufjs(
      ProtobufTraceSerializer.serializeRequest(asOtelSpans(spans) as never) as Uint8Array,
    )
    // proto3 has no presence for these: an omitted message and an empty one read the same
    const normalize = (m: Decoded) =>
      JSON.parse(JSON.stringify(m), (_k, v) =>
        v && typeof v === 'object' && 'code' in v && 'message' in v && v.code === 0 && v.message === '' ? null : v,
      )
    expect(normalize(ours)).toEqual(normalize(theirs))
  })

  it('reads OpenTelemetry JS bytes with our decoder exactly as it reads ours', () => {
    const spans = sampleSpans()
    const ours = decodeTraceRequestProto(encodeTraceRequest(spans))
    const theirs = decodeTraceRequestProto(
      ProtobufTraceSerializer.serializeRequest(asOtelSpans(spans) as never) as Uint8Array,
    )
    expect(ours.ok && theirs.ok).toBe(true)
    expect(ours).toEqual(theirs)
  })

  it('encodes large batches (length prefixes of 2 and 3 bytes) that protobufjs reads back', () => {
    const spans: ReadableSpan[] = []
    for (let i = 0; i < 600; i++) spans.push(...sampleSpans())
    const msg = decodeWithProtobufjs(encodeTraceRequest(spans)) as Json
    expect(msg.resourceSpans[0].scopeSpans[0].spans).toHaveLength(1200)
    expect(msg.resourceSpans[1].scopeSpans[0].spans).toHaveLength(600)
  })

  it('encodes no spans as an empty request', () => {
    expect(encodeTraceRequest([])).toHaveLength(0)
  })
})
