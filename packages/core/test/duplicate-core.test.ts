/**
 * Two copies of @threadline/core in one process (an adapter that resolved another core version)
 * share the provider and the context storage through global symbols. The second copy must also
 * see that the SDK is running: its adapters call `ensureStarted()`, which used to re-initialise the
 * shared provider and replace the exporter the user configured with the default one.
 */
import { expect, it, vi } from 'vitest'

it("a second copy of core sees the running SDK: its adapters keep the user's exporter and resource", async () => {
  const first = await import('../src/index.js')
  const exporter = new first.MemoryExporter()
  first.init({ serviceName: 'checkout', exporter, batch: false, propagators: ['none'] })
  try {
    vi.resetModules()
    const second = await import('../src/index.js')
    // a separate module instance, as a second installed copy would be
    expect(second.init).not.toBe(first.init)
    expect(second.isStarted()).toBe(true)
    second.ensureStarted({ serviceName: 'adapter-default' })
    second.getTracer('@threadline/express').startSpan('from the second copy').end()
    first.getTracer('app').startSpan('from the first copy').end()
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['from the second copy', 'from the first copy'])
    expect(exporter.getByName('from the second copy').resource.attributes['service.name']).toBe('checkout')
    // shutting down through either copy stops the one SDK
    await second.shutdown()
    expect(first.isStarted()).toBe(false)
  } finally {
    await first.shutdown()
  }
})
