import { type Context, RecordingSpan, SpanKind, spanFrom } from '@threadline/core'

const RENAMED = Symbol('threadline.graphql.renamed')
type RenamableSpan = RecordingSpan & { [RENAMED]?: string }

/**
 * Adds the operation to the request's HTTP server span: `POST /graphql` becomes
 * `POST /graphql query GetUser`, which is what a user searches for. The server span is the
 * active span when execution starts (GraphQL servers run inside the HTTP request's context).
 *
 * The HTTP adapters name their span after the route when the response finishes, i.e. after
 * execution; so later renames of this one span keep the operation as a suffix.
 */
export function renameServerSpan(ctx: Context, operation: string): void {
  const span = spanFrom(ctx)
  if (!(span instanceof RecordingSpan) || span.kind !== SpanKind.SERVER || !span.isRecording()) return
  const renamable = span as RenamableSpan
  if (renamable[RENAMED] !== undefined) return // batched request: the first operation names it
  renamable[RENAMED] = operation
  const updateName = span.updateName
  renamable.updateName = function (this: RecordingSpan, name: string) {
    return updateName.call(this, `${name} ${operation}`)
  }
  renamable.updateName(span.name)
}
