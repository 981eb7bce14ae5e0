import { diag } from '../diag.js'
import { envList } from '../env.js'
import { ConsoleExporter } from './console.js'
import type { SpanExporter } from './exporter.js'
import { OtlpExporter } from './otlp.js'
import { XrayExporter } from './xray.js'
import { ZipkinExporter } from './zipkin.js'

/** Exporter names accepted in options and OTEL_TRACES_EXPORTER. */
export type ExporterName = 'otlp' | 'zipkin' | 'xray' | 'console' | 'none'

const FACTORIES: Record<Exclude<ExporterName, 'none'>, () => SpanExporter> = {
  otlp: () => new OtlpExporter(),
  zipkin: () => new ZipkinExporter(),
  xray: () => new XrayExporter(),
  console: () => new ConsoleExporter(),
}

/** Builds exporters from names (options) or OTEL_TRACES_EXPORTER (comma-separated; default `otlp`). */
export function exportersFromNames(names?: readonly string[]): SpanExporter[] {
  const list = names ?? envList('OTEL_TRACES_EXPORTER') ?? ['otlp']
  const out: SpanExporter[] = []
  for (const raw of list) {
    const name = raw.trim().toLowerCase()
    if (name === 'none') continue
    const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name as Exclude<ExporterName, 'none'>] : undefined
    if (factory) out.push(factory())
    else diag.warn('TL_ERR_EXPORTER', `unknown exporter "${name}" (known: otlp, zipkin, xray, console, none); ignored`)
  }
  return out
}
