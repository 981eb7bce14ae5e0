import { diag } from '../diag.js'
import { envList } from '../env.js'
import { ConsoleExporter } from './console.js'
import type { SpanExporter } from './exporter.js'

/** Exporter names accepted in options and OTEL_TRACES_EXPORTER. */
export type ExporterName = 'otlp' | 'zipkin' | 'xray' | 'console' | 'none'

const FACTORIES: Partial<Record<ExporterName, () => SpanExporter>> = {
  console: () => new ConsoleExporter(),
}

/** Builds exporters from names (options) or OTEL_TRACES_EXPORTER (comma-separated; default `otlp`). */
export function exportersFromNames(names?: readonly string[]): SpanExporter[] {
  const list = names ?? envList('OTEL_TRACES_EXPORTER') ?? ['otlp']
  const out: SpanExporter[] = []
  for (const name of list) {
    if (name === 'none') continue
    const factory = FACTORIES[name as ExporterName]
    if (factory) out.push(factory())
    else diag.warn('TL_ERR_EXPORTER', `unknown or unavailable exporter "${name}"; ignored`)
  }
  return out
}
