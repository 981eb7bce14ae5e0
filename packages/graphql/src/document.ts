/**
 * What the operation spans read from a parsed document, duck-typed so this package never loads
 * `graphql` at run time (the user's graphql 16 or 17 is the one that parsed it).
 */

export interface OperationNodeLike {
  kind: string
  operation?: string
  name?: { value: string } | undefined | null
}

export interface DocumentLike {
  definitions: readonly OperationNodeLike[]
  loc?: { source: { body: string } } | undefined
}

/** The operation a request runs: the one named, or the only one (GraphQL spec §6.1 GetOperation). */
export function findOperation(
  document: DocumentLike | undefined | null,
  operationName: string | undefined | null,
): OperationNodeLike | undefined {
  let found: OperationNodeLike | undefined
  for (const definition of document?.definitions ?? []) {
    if (definition.kind !== 'OperationDefinition') continue
    if (operationName) {
      if (definition.name?.value === operationName) return definition
    } else {
      if (found) return undefined
      found = definition
    }
  }
  return found
}

// One token per match: block strings, strings, numbers, comments, names, punctuation/whitespace.
const TOKEN =
  /("""[\s\S]*?(?:"""|$))|("(?:[^"\\\n]|\\.)*"?)|(-?\d[\d.eE+-]*)|(#[^\n]*)|([_A-Za-z][_0-9A-Za-z]*)|([\s,]+)|(.)/g

/**
 * The document as a span attribute: comments dropped, whitespace and commas collapsed, string
 * and number literals replaced by `?` (they may be personal data), at most `maxLength` characters.
 */
export function sanitizeDocument(source: string, maxLength: number): string {
  let out = ''
  for (const match of source.matchAll(TOKEN)) {
    if (out.length > maxLength) break
    const [text, block, string, number, comment, , whitespace] = match
    if (comment !== undefined) continue
    if (whitespace !== undefined) {
      if (out.length > 0 && !out.endsWith(' ')) out += ' '
      continue
    }
    out += block !== undefined || string !== undefined || number !== undefined ? '?' : text
  }
  out = out.trimEnd()
  return out.length > maxLength ? out.slice(0, maxLength) : out
}
