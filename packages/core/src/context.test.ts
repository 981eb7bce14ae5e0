import dc from 'node:diagnostics_channel'
import { EventEmitter, once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { activeSpan, startSpan, trace, withoutSpan, withSpan } from './api.js'
import {
  activeContext,
  adoptContext,
  bindContext,
  bindContextToChannel,
  bridgeContextKey,
  type Context,
  createContextKey,
  isTracingSuppressed,
  ROOT_CONTEXT,
  suppressTracing,
  withContext,
} from './context.js'
import { MemoryExporter } from './export/memory.js'
import { init, shutdown } from './sdk.js'

describe('context', () => {
  let exporter: MemoryExporter
  beforeEach(() => {
    exporter = new MemoryExporter()
    init({ exporter, batch: false, propagators: ['none'] })
  })
  afterEach(() => shutdown())

  it('keeps the active span across await, timers, promises and queueMicrotask', async () => {
    await trace('outer', async (outer) => {
      await sleep(1)
      expect(activeSpan()).toBe(outer)
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          expect(activeSpan()).toBe(outer)
          resolve()
        }, 1),
      )
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          expect(activeSpan()).toBe(outer)
          resolve()
        }),
      )
      await new Promise<void>((resolve) =>
        queueMicrotask(() => {
          expect(activeSpan()).toBe(outer)
          resolve()
        }),
      )
      await Promise.all([1, 2, 3].map(async () => expect(activeSpan()).toBe(outer)))
    })
  })

  it('isolates concurrent requests', async () => {
    const seen: string[] = []
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        trace(name, async (span) => {
          await sleep(Math.random() * 5)
          expect(activeSpan()).toBe(span)
          seen.push(name)
        }),
      ),
    )
    expect(seen.sort()).toEqual(['a', 'b', 'c'])
    for (const name of ['a', 'b', 'c']) expect(exporter.getByName(name).parentSpanContext).toBeUndefined()
  })

  it('binds functions to the context they were bound in', async () => {
    let bound: () => unknown = () => undefined
    const outer = trace('outer', (span) => {
      bound = bindContext(() => activeSpan())
      return span
    })
    expect(activeSpan()).toBeUndefined()
    expect(bound()).toBe(outer)
  })

  it('binds EventEmitter listeners added after binding', async () => {
    const emitter = new EventEmitter()
    const seen: unknown[] = []
    const outer = trace('outer', (span) => {
      bindContext(emitter)
      const listener = () => seen.push(activeSpan())
      emitter.on('data', listener)
      emitter.once('end', () => seen.push(activeSpan()))
      return span
    })
    // emitted outside any span, e.g. from a socket callback
    emitter.emit('data')
    const ended = once(emitter, 'end')
    emitter.emit('end')
    await ended
    expect(seen).toEqual([outer, outer])
  })

  it('removes bound listeners with the original function', () => {
    const emitter = bindContext(new EventEmitter())
    const listener = () => {}
    emitter.on('x', listener)
    expect(emitter.listenerCount('x')).toBe(1)
    emitter.off('x', listener)
    expect(emitter.listenerCount('x')).toBe(0)
  })

  it('runs code with no active span, so what it starts is a new trace', () => {
    trace('request', (request) => {
      withoutSpan(() => {
        expect(activeSpan()).toBeUndefined()
        trace('background job', () => {})
      })
      expect(activeSpan()).toBe(request)
    })
    const job = exporter.getByName('background job')
    expect(job.parentSpanContext).toBeUndefined()
    expect(job.spanContext().traceId).not.toBe(exporter.getByName('request').spanContext().traceId)
  })

  it('suppresses tracing for the SDK’s own I/O', () => {
    trace('request', () => {
      suppressTracing(() => {
        expect(isTracingSuppressed()).toBe(true)
        const span = startSpan('export request')
        expect(span.isRecording()).toBe(false)
        span.end()
      })
      expect(isTracingSuppressed()).toBe(false)
    })
    expect(exporter.findByName('export request')).toHaveLength(0)
  })

  it('knows whether tracing is suppressed through any chain of values, deletes and foreign contexts', () => {
    const suppressKey = createContextKey('suppress-tracing')
    const other = createContextKey('test-other')
    const suppressed = ROOT_CONTEXT.setValue(suppressKey, true)
    expect(isTracingSuppressed(suppressed)).toBe(true)
    expect(isTracingSuppressed(suppressed.setValue(other, 1).setValue(other, 2))).toBe(true)
    expect(isTracingSuppressed(suppressed.setValue(other, 1).deleteValue(suppressKey))).toBe(false)
    expect(isTracingSuppressed(suppressed.setValue(suppressKey, false).setValue(other, 1))).toBe(false)
    expect(isTracingSuppressed(suppressed.setValue(suppressKey, 'yes'))).toBe(false)
    expect(isTracingSuppressed(ROOT_CONTEXT.setValue(other, 1))).toBe(false)
    // another library's context that carries the key, and one that does not
    const foreign = (values: Map<symbol, unknown>): Context => ({
      getValue: (key) => values.get(key),
      setValue: (key, value) => foreign(new Map(values).set(key, value)),
      deleteValue: (key) => {
        const copy = new Map(values)
        copy.delete(key)
        return foreign(copy)
      },
    })
    const foreignSuppressed = foreign(new Map([[suppressKey, true]]))
    expect(isTracingSuppressed(foreignSuppressed)).toBe(true)
    expect(isTracingSuppressed(adoptContext(foreignSuppressed).setValue(other, 1))).toBe(true)
    expect(isTracingSuppressed(adoptContext(foreignSuppressed).deleteValue(suppressKey))).toBe(false)
    expect(isTracingSuppressed(adoptContext(foreign(new Map())).setValue(other, 1))).toBe(false)
    // a foreign key bridged to the suppression key answers for it
    const foreignKey = Symbol('test-foreign-suppress')
    const unbridge = bridgeContextKey({ foreign: foreignKey, own: suppressKey, read: (v) => v, write: (v) => v })
    try {
      expect(isTracingSuppressed(ROOT_CONTEXT.setValue(foreignKey, true).setValue(other, 1))).toBe(true)
      expect(isTracingSuppressed(suppressed.deleteValue(foreignKey))).toBe(false)
    } finally {
      unbridge()
    }
  })

  it('stores values immutably under keys', () => {
    const key = createContextKey('test-value')
    const ctx = ROOT_CONTEXT.setValue(key, 42)
    expect(ROOT_CONTEXT.getValue(key)).toBeUndefined()
    expect(ctx.getValue(key)).toBe(42)
    expect(ctx.deleteValue(key).getValue(key)).toBeUndefined()
    withContext(ctx, () => expect(activeContext().getValue(key)).toBe(42))
  })

  it('makes a span active with withSpan', () => {
    const span = startSpan('manual')
    withSpan(span, () => expect(activeSpan()).toBe(span))
    span.end()
  })
})

describe('bindContextToChannel', () => {
  it('makes the transformed context active while a channel runs its stores, until unbound', () => {
    const key = createContextKey('test-channel-message')
    const channel = dc.tracingChannel<unknown, { id: number }>('threadline:test:bind-context')
    const seen: unknown[] = []
    const unbind = bindContextToChannel(channel.start, (message) => activeContext().setValue(key, message.id))

    channel.start.runStores({ id: 1 }, () => seen.push(activeContext().getValue(key)))
    channel.traceSync(() => seen.push(activeContext().getValue(key)), { id: 2 })
    expect(activeContext().getValue(key)).toBeUndefined()

    unbind()
    channel.traceSync(() => seen.push(activeContext().getValue(key)), { id: 3 })
    expect(seen).toEqual([1, 2, undefined])
  })
})
