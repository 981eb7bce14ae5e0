/**
 * Light formatting of SQL and GraphQL documents for reading: line breaks before clauses and
 * indentation by nesting. Returns tokens with a class so keywords can be coloured; everything
 * stays text.
 */

export interface Token {
  text: string
  kind?: 'keyword' | 'string' | 'number' | 'punct' | 'name'
}

const SQL_BREAK =
  /^(SELECT|FROM|WHERE|GROUP BY|ORDER BY|HAVING|LIMIT|OFFSET|INSERT INTO|VALUES|UPDATE|SET|DELETE FROM|RETURNING|UNION( ALL)?|(LEFT |RIGHT |INNER |OUTER |FULL |CROSS )*JOIN|ON CONFLICT|WITH)$/i
const SQL_KEYWORDS = new Set(
  'select from where and or not in is null like ilike between group by order having limit offset insert into values update set delete returning union all join left right inner outer full cross on as distinct case when then else end exists with asc desc count sum avg min max conflict do nothing begin commit rollback'.split(
    ' ',
  ),
)

export function formatSql(sql: string): Token[] {
  const parts = sql.match(/'(?:[^']|'')*'|"[^"]*"|\$\d+|\?|\d+(?:\.\d+)?|[A-Za-z_][\w.]*|\s+|./g) ?? []
  // merge multi-word clauses (GROUP BY, LEFT JOIN …) into one word
  const words: string[] = []
  for (const part of parts) {
    if (/^\s+$/.test(part)) continue
    const last = words[words.length - 1]
    if (
      last &&
      /^(GROUP|ORDER|INSERT|DELETE|LEFT|RIGHT|INNER|OUTER|FULL|CROSS|UNION|ON)$/i.test(last.split(' ').pop()!) &&
      /^(BY|INTO|FROM|JOIN|OUTER|INNER|ALL|CONFLICT)$/i.test(part)
    ) {
      words[words.length - 1] = `${last} ${part}`
    } else words.push(part)
  }
  const out: Token[] = []
  let depth = 0
  let lineStart = true
  const newline = () => {
    if (out.length) out.push({ text: `\n${'  '.repeat(depth)}` })
    lineStart = true
  }
  for (const word of words) {
    if (SQL_BREAK.test(word)) newline()
    else if (/^(AND|OR)$/i.test(word) && depth === 0) {
      out.push({ text: `\n  ` })
      lineStart = true
    }
    if (word === ')') depth = Math.max(0, depth - 1)
    if (!lineStart && !/^[,)]$/.test(word) && !(out[out.length - 1]?.text === '(')) out.push({ text: ' ' })
    lineStart = false
    const kind: Token['kind'] = SQL_KEYWORDS.has(word.toLowerCase().split(' ')[0]!)
      ? 'keyword'
      : /^'/.test(word)
        ? 'string'
        : /^(\d|\$\d|\?$)/.test(word)
          ? 'number'
          : /^[(),;*=<>!.]/.test(word)
            ? 'punct'
            : 'name'
    out.push({ text: kind === 'keyword' ? word.toUpperCase() : word, kind })
    if (word === '(') depth++
  }
  return out
}

export function formatGraphql(doc: string): Token[] {
  const parts =
    doc.match(
      /"""[\s\S]*?"""|"(?:[^"\\]|\\.)*"|#[^\n]*|\.\.\.|[A-Za-z_]\w*|\$\w+|-?\d+(?:\.\d+)?|[{}()[\]:,!=@|&]|\s+|./g,
    ) ?? []
  const out: Token[] = []
  let depth = 0
  let needSpace = false
  const newline = () => out.push({ text: `\n${'  '.repeat(depth)}` })
  let parens = 0
  for (const part of parts) {
    if (/^\s+$/.test(part) || part === ',') {
      if (part === ',' && parens > 0) out.push({ text: ',', kind: 'punct' })
      needSpace = true
      if (part === ',' && parens === 0) needSpace = false
      continue
    }
    if (part === '{') {
      out.push({ text: ' {', kind: 'punct' })
      depth++
      newline()
      needSpace = false
      continue
    }
    if (part === '}') {
      depth = Math.max(0, depth - 1)
      if (out.length && /^\n/.test(out[out.length - 1]!.text)) out.pop()
      newline()
      out.push({ text: '}', kind: 'punct' })
      newline()
      needSpace = false
      continue
    }
    if (part === '(') parens++
    if (part === ')') parens = Math.max(0, parens - 1)
    const last = out[out.length - 1]
    const fieldAfterField =
      last &&
      parens === 0 &&
      depth > 0 &&
      /^[\w.]/.test(part) &&
      /\w$/.test(last.text) &&
      last.text !== 'on' &&
      part !== 'on'
    // two names in a row inside a selection set are two fields: one per line
    if (fieldAfterField) newline()
    else if (
      (needSpace || (last && /^\w/.test(part) && /\w$/.test(last.text))) &&
      last &&
      !/^\n/.test(last.text) &&
      part !== ')' &&
      part !== ':' &&
      last.text !== '('
    )
      out.push({ text: ' ' })
    const kind: Token['kind'] = /^(query|mutation|subscription|fragment|on|true|false|null)$/.test(part)
      ? 'keyword'
      : /^"/.test(part)
        ? 'string'
        : /^-?\d/.test(part)
          ? 'number'
          : /^\$/.test(part)
            ? 'name'
            : /^\w/.test(part)
              ? undefined
              : 'punct'
    out.push({ text: part, kind })
    needSpace = part === ':'
  }
  while (out.length && /^\s*$/.test(out[out.length - 1]!.text)) out.pop()
  return out
}
