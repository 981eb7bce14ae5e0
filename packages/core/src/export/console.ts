import { type ReadableSpan, SpanKind, SpanStatusCode } from '../span.js'
import { EXPORT_OK, type ExportResult, type SpanExporter } from './exporter.js'
import { buildTrees, type SpanTreeNode } from './memory.js'

const KIND_LABEL: Record<number, string> = {
  [SpanKind.INTERNAL]: '',
  [SpanKind.SERVER]: ' [server]',
  [SpanKind.CLIENT]: ' [client]',
  [SpanKind.PRODUCER]: ' [producer]',
  [SpanKind.CONSUMER]: ' [consumer]',
}

export interface ConsoleExporterOptions {
  /** Where lines go (default: process.stdout). */
  write?: (text: string) => void
  /** Print attributes under each span (default false). */
  attributes?: boolean
}

/**
 * Prints each batch as an indented tree per trace, with durations, e.g.
 * `GET /users/:id [server] 12.3 ms` / `  SELECT users [client] 4.1 ms`.
 */
export class ConsoleExporter implements SpanExporter {
  private readonly write: (text: string) => void
  private readonly showAttributes: boolean

  constructor(options: ConsoleExporterOptions = {}) {
    this.write = options.write ?? ((text) => process.stdout.write(text))
    this.showAttributes = options.attributes ?? false
  }

  async export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    this.write(formatTraces(spans, this.showAttributes))
    return EXPORT_OK
  }

  async shutdown(): Promise<void> {}
}

/** Renders spans as one tree per trace (text, ending with a newline). */
export function formatTraces(spans: readonly ReadableSpan[], showAttributes = false): string {
  const byTrace = new Map<string, ReadableSpan[]>()
  for (const span of spans) {
    const id = span.spanContext().traceId
    const list = byTrace.get(id)
    if (list) list.push(span)
    else byTrace.set(id, [span])
  }
  const lines: string[] = []
  for (const [traceId, list] of byTrace) {
    const service = list[0]?.resource.attributes['service.name']
    lines.push(`trace ${traceId}${service ? ` (${String(service)})` : ''}`)
    for (const root of buildTrees(list)) render(root, '', true, lines, showAttributes)
  }
  return `${lines.join('\n')}\n`
}

function render(node: SpanTreeNode, prefix: string, last: boolean, lines: string[], showAttributes: boolean): void {
  const s = node.span
  const ms = (s.endTime - s.startTime).toFixed(1)
  const error = s.status.code === SpanStatusCode.ERROR ? ` ✗ ${s.status.message ?? 'error'}` : ''
  lines.push(`${prefix}${last ? '└─ ' : '├─ '}${s.name}${KIND_LABEL[s.kind] ?? ''} ${ms} ms${error}`)
  const childPrefix = prefix + (last ? '   ' : '│  ')
  if (showAttributes) {
    for (const [key, value] of Object.entries(s.attributes))
      lines.push(`${childPrefix}  · ${key}=${JSON.stringify(value)}`)
  }
  node.children.forEach((child, i) => {
    render(child, childPrefix, i === node.children.length - 1, lines, showAttributes)
  })
}
