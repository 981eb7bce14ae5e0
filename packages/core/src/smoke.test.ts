import { afterEach, describe, expect, it } from 'vitest'
import { activeSpan, init, MemoryExporter, SpanKind, shutdown, trace } from './index.js'

describe('smoke', () => {
  afterEach(() => shutdown())
  it('records a parent and child span', async () => {
    const exporter = new MemoryExporter()
    init({ serviceName: 'smoke', exporter, batch: false })
    await trace('parent', async () => {
      await new Promise((r) => setTimeout(r, 1))
      trace('child', () => expect(activeSpan()?.isRecording()).toBe(true), { kind: SpanKind.CLIENT })
    })
    const parent = exporter.getByName('parent')
    const child = exporter.getByName('child')
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
    expect(parent.resource.attributes['service.name']).toBe('smoke')
  })
})
