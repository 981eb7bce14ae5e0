// Types for the peer tracers that ship none (only what these tests use).

declare module 'zipkin-context-cls' {
  import type { Context } from 'zipkin'
  export default class CLSContext<T> implements Context<T> {
    constructor(namespace?: string, supportAsyncAwait?: boolean)
    setContext(ctx: T): void
    getContext(): T
    scoped<V>(callable: () => V): V
    letContext<V>(ctx: T, callable: () => V): V
  }
}

declare module 'zipkin-instrumentation-fetch' {
  import type { Tracer } from 'zipkin'
  export default function wrapFetch(
    fetchImpl: typeof fetch,
    options: { tracer: Tracer; serviceName?: string; remoteServiceName?: string },
  ): typeof fetch
}

declare module 'jaeger-client' {
  interface JaegerSpan {
    setBaggageItem(key: string, value: string): JaegerSpan
    getBaggageItem(key: string): string | undefined
    setTag(key: string, value: unknown): JaegerSpan
    finish(): void
  }
  type SpanContext = object
  interface JaegerTracer {
    startSpan(
      name: string,
      options?: { childOf?: JaegerSpan | SpanContext; tags?: Record<string, unknown> },
    ): JaegerSpan
    extract(format: string, carrier: object): SpanContext | null
    inject(span: JaegerSpan, format: string, carrier: object): void
    close(callback?: () => void): void
  }
  const jaeger: {
    initTracer(
      config: {
        serviceName: string
        sampler?: { type: string; param: number }
        reporter?: { collectorEndpoint?: string; flushIntervalMs?: number }
      },
      options?: { traceId128bit?: boolean; logger?: { info(msg: string): void; error(msg: string): void } },
    ): JaegerTracer
    opentracing: {
      FORMAT_HTTP_HEADERS: string
      Tags: Record<
        'SPAN_KIND' | 'SPAN_KIND_RPC_SERVER' | 'SPAN_KIND_RPC_CLIENT' | 'HTTP_METHOD' | 'HTTP_URL' | 'HTTP_STATUS_CODE',
        string
      >
    }
  }
  export default jaeger
}
