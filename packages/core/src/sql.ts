/**
 * SQL for spans: `db.query.text` with literals replaced by `?` (semconv database-spans
 * §Sanitization of db.query.text) and `db.query.summary` (§Generating a summary of the query
 * text), from one linear pass over the statement with a PostgreSQL-flavoured lexer. Any DB
 * adapter calls `sqlInfo()`; nothing here throws, whatever the input.
 */

/** What a span records about one SQL statement. */
export interface SqlInfo {
  /** The statement with every literal replaced by `?`, comments removed, `$1` kept, capped. */
  text: string
  /** `{operation} {target} …` in the order written, e.g. `SELECT users orders`; undefined if none found. */
  summary: string | undefined
  /** The operation when the statement has a single one (`SELECT`), as written. */
  operation: string | undefined
  /** The table when the statement names exactly one, as written (`public.users`). */
  collection: string | undefined
}

export interface SanitizeOptions {
  /** Longest `text` returned (default 4096 characters); the scan stops there. */
  maxLength?: number
}

const DEFAULT_MAX_LENGTH = 4096
/** Summaries longer than this stop growing (they are span names). */
const MAX_SUMMARY = 255

// Character classes, by char code.
const isDigit = (c: number) => c >= 48 && c <= 57
const isIdentStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c) || c === 36 /* $ */
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13)

// Keyword classes, as bit flags: one Map lookup per word (hot path: most words are not keywords).
const DML = 1 << 0 // starts an operation anywhere: select insert update delete merge
const NOT_AFTER = 1 << 1 // a DML word after these is not an operation: FOR UPDATE, ON DELETE, DO UPDATE, GRANT SELECT
const TARGET_AFTER = 1 << 2 // the next name is a table: from join into using
const FROM_LIST = 1 << 3 // starts a `FROM a, b` list: from using
const STATEMENT_TARGET = 1 << 4 // statements whose next name is a table: UPDATE t, TRUNCATE a, b, COPY t, LOCK t
const SKIP = 1 << 5 // skipped while waiting for a table name
const CLAUSE = 1 << 6 // ends a FROM list (anything else after a table is its alias)
const DDL_MODIFIER = 1 << 7 // skipped between CREATE and the object type
const DDL = 1 << 8 // create drop alter
const JOIN = 1 << 9 // join words, which do not end a FROM list
const BOUNDARY = 1 << 10 // a DML word after these starts an operation: AS (SELECT …), EXPLAIN
const BOOLEAN = 1 << 11
const WITH = 1 << 12
const IN = 1 << 13
const INTO = 1 << 14
const LIST_STATEMENT = 1 << 15 // TRUNCATE a, b
const UPDATE = 1 << 16
const DROP = 1 << 17
const SELECT = 1 << 18
/** No keyword is longer than this: longer words skip the lookup. */
const LONGEST_KEYWORD = 12

// Each keyword is stored lower- and upper-case, so the usual spellings need no toLowerCase().
const KEYWORDS = new Map<string, number>()
function keywords(flags: number, words: string): void {
  for (const lower of words.split(' ')) {
    for (const w of [lower, lower.toUpperCase()]) KEYWORDS.set(w, (KEYWORDS.get(w) ?? 0) | flags)
  }
}

/** A word's keyword flags (0 for identifiers); `first` is its first char code. */
function keywordFlags(word: string, first: number): number {
  const flags = KEYWORDS.get(word)
  if (flags !== undefined) return flags
  // `Select`, `sElect`: rare spellings pay for a lower-case copy; `users` (most words) does not
  return first >= 65 && first <= 90
    ? (KEYWORDS.get(word.toLowerCase()) ?? 0)
    : hasUpper(word)
      ? (KEYWORDS.get(word.toLowerCase()) ?? 0)
      : 0
}

function hasUpper(word: string): boolean {
  for (let k = 1; k < word.length; k++) {
    const c = word.charCodeAt(k)
    if (c >= 65 && c <= 90) return true
  }
  return false
}
keywords(DML, 'select insert update delete merge')
keywords(NOT_AFTER, 'for on do key then before after of grant revoke instead')
keywords(TARGET_AFTER, 'from join into using')
keywords(FROM_LIST, 'from using')
keywords(STATEMENT_TARGET, 'update truncate copy lock')
keywords(SKIP, 'only lateral if not exists concurrently table')
keywords(
  CLAUSE,
  'where group order limit offset having window union intersect except on using set returning values select fetch for default overriding do with tablesample natural inner left right full outer cross join from into as when then stdin stdout program to in',
)
keywords(
  DDL_MODIFIER,
  'or replace temp temporary unlogged global local unique materialized recursive foreign trusted procedural',
)
keywords(DDL, 'create drop alter')
keywords(JOIN, 'join inner left right full outer cross natural as')
keywords(BOUNDARY, 'as explain')
keywords(BOOLEAN, 'true false')
keywords(WITH, 'with')
keywords(IN, 'in')
keywords(INTO, 'into')
keywords(LIST_STATEMENT, 'truncate')
keywords(UPDATE, 'update')
keywords(DROP, 'drop')
keywords(SELECT, 'select')

/**
 * Sanitizes and summarizes a statement in one pass. Linear in the input; `text` is at most
 * `maxLength` characters and the summary at most 255.
 */
export function analyzeSql(sql: string, options?: SanitizeOptions): SqlInfo {
  try {
    return scan(typeof sql === 'string' ? sql : String(sql), options?.maxLength ?? DEFAULT_MAX_LENGTH)
  } catch {
    // the lexer is total, but a span must never cost the user their query
    return { text: '?', summary: undefined, operation: undefined, collection: undefined }
  }
}

/** `db.query.text`: literals replaced by `?`, comments removed, `IN (1, 2, 3)` collapsed to `IN (?)`. */
export function sanitizeSql(sql: string, options?: SanitizeOptions): string {
  return analyzeSql(sql, options).text
}

const CACHE_LIMIT = 1000
const CACHE_MAX_TEXT = 8192
const cache = new Map<string, SqlInfo>()

/**
 * `analyzeSql` with a bounded cache: applications send a few hundred distinct statements, so
 * the common case is one Map lookup (hot path: a query span costs no SQL parsing after warm-up).
 */
export function sqlInfo(sql: string): SqlInfo {
  let info = cache.get(sql)
  if (info === undefined) {
    info = analyzeSql(sql)
    if (sql.length <= CACHE_MAX_TEXT) {
      if (cache.size >= CACHE_LIMIT) cache.clear()
      cache.set(sql, info)
    }
  }
  return info
}

interface SummaryState {
  parts: string[]
  length: number
  operations: string[]
  targets: string[]
  /** Keyword flags of the previous token if it was a word, else 0. */
  prevFlags: number
  /** The previous token if it was punctuation (`(`, `,` …), `^` at the start, else ''. */
  prevPunct: string
  /** Waiting for a table name (after FROM, JOIN, INTO …). */
  expectTarget: boolean
  /** Whether the awaited name may be a function (`FROM unnest($1)`) rather than a table. */
  targetMayBeFunction: boolean
  /** Paren depth of a `FROM a, b` list (a comma there means another table), or -1. */
  listDepth: number
  /** The table name being read (`schema.table` comes in pieces), and whether a `.` is pending. */
  pending: string | undefined
  pendingDot: boolean
  pendingMayBeFunction: boolean
  /** After CREATE/DROP/ALTER (as written): the next word that is not a modifier is the object type. */
  ddl: string | undefined
  ddlIsDrop: boolean
  depth: number
  statementStart: boolean
  full: boolean
}

function scan(sql: string, maxLength: number): SqlInfo {
  const n = sql.length
  const out: string[] = []
  let outLength = 0
  let copyFrom = 0 // input not yet copied to `out`
  let textDone = false
  // IN-list collapsing: where `(` of `IN (` starts in `out`, and whether only literals followed.
  let inListAt = -1
  let inListLength = 0
  let inListClean = false
  let inListSeenValue = false
  let afterIn = false

  const s: SummaryState = {
    parts: [],
    length: 0,
    operations: [],
    targets: [],
    prevFlags: 0,
    prevPunct: '^',
    expectTarget: false,
    targetMayBeFunction: false,
    listDepth: -1,
    pending: undefined,
    pendingDot: false,
    pendingMayBeFunction: false,
    ddl: undefined,
    ddlIsDrop: false,
    depth: 0,
    statementStart: true,
    full: false,
  }

  const flush = (to: number) => {
    if (to > copyFrom) {
      const piece = sql.slice(copyFrom, to)
      out.push(piece)
      outLength += piece.length
    }
    copyFrom = to
  }
  /** Replaces input [start, end) by `replacement`. */
  const replace = (start: number, end: number, replacement: string) => {
    flush(start)
    out.push(replacement)
    outLength += replacement.length
    copyFrom = end
  }

  let i = 0
  while (i < n) {
    if (!textDone && outLength + (i - copyFrom) > maxLength) {
      flush(i)
      textDone = true
    }
    if (textDone && s.full) break
    const c = sql.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    const start = i
    // comments: removed from the text (they may carry anything), invisible to the summary
    if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      i += 2
      while (i < n && sql.charCodeAt(i) !== 10) i++
      if (!textDone) replace(start, i, ' ')
      continue
    }
    if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      let depth = 1
      i += 2
      while (i < n && depth > 0) {
        const d = sql.charCodeAt(i)
        if (d === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++
          i += 2
        } else if (d === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--
          i += 2
        } else i++
      }
      if (!textDone) replace(start, i, ' ')
      continue
    }
    let literal = false
    if (c === 39 /* ' */) {
      i = skipQuoted(sql, i, 39, false)
      literal = true
    } else if (c === 34 /* " */) {
      i = skipQuoted(sql, i, 34, false)
      token(s, sql.slice(start, i), false, 0)
      if (afterIn) afterIn = false
      if (inListAt >= 0) inListClean = false
      continue
    } else if (c === 36 /* $ */) {
      const next = sql.charCodeAt(i + 1)
      if (isDigit(next)) {
        // a parameter ($1): kept as written (semconv: placeholders are not sanitized)
        i += 2
        while (i < n && isDigit(sql.charCodeAt(i))) i++
        token(s, '$', false, 0)
        if (inListAt >= 0) inListClean = false
        afterIn = false
        continue
      }
      const end = dollarQuoteEnd(sql, i)
      if (end > 0) {
        i = end
        literal = true
      } else {
        i++
        token(s, '$', false, 0)
        continue
      }
    } else if (isDigit(c) || (c === 46 /* . */ && isDigit(sql.charCodeAt(i + 1)))) {
      i = skipNumber(sql, i)
      literal = true
    } else if (isIdentStart(c)) {
      i++
      while (i < n && isIdentPart(sql.charCodeAt(i))) i++
      const word = sql.slice(start, i)
      const next = sql.charCodeAt(i)
      const len = i - start
      // prefixed strings: E'…' (backslash escapes), B'…', X'…', N'…', U&'…'
      if (next === 39 && len === 1 && 'eEbBxXnN'.includes(word)) {
        i = skipQuoted(sql, i, 39, word === 'e' || word === 'E')
        literal = true
      } else if (len === 1 && (word === 'u' || word === 'U') && next === 38 /* & */ && sql.charCodeAt(i + 1) === 39) {
        i = skipQuoted(sql, i + 1, 39, false)
        literal = true
      } else {
        const flags = len <= LONGEST_KEYWORD ? keywordFlags(word, c) : 0
        if (flags & BOOLEAN) literal = true
        else {
          if (inListAt >= 0) inListClean = false
          afterIn = (flags & IN) !== 0
          token(s, word, true, flags)
          continue
        }
      }
    } else {
      // punctuation
      i++
      if (c === 40 /* ( */) {
        if (afterIn && !textDone) {
          flush(i)
          inListAt = out.length
          inListLength = outLength
          inListClean = true
          inListSeenValue = false
        } else if (inListAt >= 0) inListClean = false
      } else if (c === 41 /* ) */ && inListAt >= 0) {
        if (inListClean && inListSeenValue && !textDone) {
          out.length = inListAt
          outLength = inListLength
          out.push('?)')
          outLength += 2
          copyFrom = i
        }
        inListAt = -1
      } else if (c !== 44 /* , */ && inListAt >= 0) {
        // `IN (1 + 2)`, casts …: not a plain list, keep it as sanitized
        if (c !== 58 /* : */) inListClean = false
      }
      afterIn = false
      token(s, sql[start] as string, false, 0)
      continue
    }
    if (literal) {
      afterIn = false
      if (inListAt >= 0) inListSeenValue = true
      if (!textDone) replace(start, Math.min(i, n), '?')
      token(s, '?', false, 0)
    }
  }
  if (!textDone) flush(n)
  endStatement(s)
  let text = out.join('')
  if (text.length > maxLength) text = text.slice(0, maxLength)
  return {
    text: text.trim(),
    summary: s.parts.length ? s.parts.join(' ') : undefined,
    operation: single(s.operations),
    collection: single(s.targets),
  }
}

/** The value if all entries are the same (case-insensitively), else undefined. */
function single(values: string[]): string | undefined {
  const first = values[0]
  if (first === undefined) return undefined
  const lower = first.toLowerCase()
  for (let k = 1; k < values.length; k++) if ((values[k] as string).toLowerCase() !== lower) return undefined
  return first
}

/** Index after a quoted string or identifier starting at `i`; doubled quotes escape, and backslashes for E''. */
function skipQuoted(sql: string, i: number, quote: number, backslash: boolean): number {
  const n = sql.length
  i++
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (backslash && c === 92 /* \ */) {
      i += 2
      continue
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return n // unterminated: the rest is the literal
}

/** End of a dollar-quoted string (`$$…$$`, `$tag$…$tag$`) starting at `i`, or -1 if `i` starts none. */
function dollarQuoteEnd(sql: string, i: number): number {
  let j = i + 1
  if (isIdentStart(sql.charCodeAt(j))) {
    j++
    while (j < sql.length && isIdentPart(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++
  }
  if (sql.charCodeAt(j) !== 36) return -1
  const tag = sql.slice(i, j + 1)
  const close = sql.indexOf(tag, j + 1)
  return close < 0 ? sql.length : close + tag.length
}

/** Index after a numeric literal: 42, 3.14, .5, 1e-3, 0x1F, 0o17, 0b101, 1_000. */
function skipNumber(sql: string, i: number): number {
  const n = sql.length
  const c1 = sql.charCodeAt(i + 1) | 32
  if (sql.charCodeAt(i) === 48 && (c1 === 120 || c1 === 111 || c1 === 98)) {
    i += 2
    while (i < n && (isIdentPart(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i++
    return i
  }
  while (i < n && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i++
  if (sql.charCodeAt(i) === 46 && sql.charCodeAt(i + 1) !== 46) {
    i++
    while (i < n && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i++
  }
  if ((sql.charCodeAt(i) | 32) === 101) {
    let j = i + 1
    const sign = sql.charCodeAt(j)
    if (sign === 43 || sign === 45) j++
    if (isDigit(sql.charCodeAt(j))) {
      i = j
      while (i < n && isDigit(sql.charCodeAt(i))) i++
    }
  }
  return i
}

function addPart(s: SummaryState, part: string): void {
  if (s.full) return
  const extra = (s.length ? 1 : 0) + part.length
  if (s.length + extra > MAX_SUMMARY) {
    s.full = true
    return
  }
  s.parts.push(part)
  s.length += extra
}

function addOperation(s: SummaryState, op: string): void {
  commitPending(s)
  s.operations.push(op)
  addPart(s, op)
}

/** Commits the table name being read, unless it turned out to be a function call. */
function commitPending(s: SummaryState): void {
  if (s.pending === undefined) return
  s.targets.push(s.pending)
  addPart(s, s.pending)
  s.pending = undefined
  s.pendingDot = false
}

function endStatement(s: SummaryState): void {
  commitPending(s)
  s.expectTarget = false
  s.listDepth = -1
  s.ddl = undefined
}

/** Feeds one significant token to the summary state machine; `flags` are a word's keyword classes. */
function token(s: SummaryState, raw: string, word: boolean, flags: number): void {
  const prevFlags = s.prevFlags
  const prevPunct = s.prevPunct
  s.prevFlags = flags
  s.prevPunct = word ? '' : raw
  const quoted = raw.charCodeAt(0) === 34 /* " */
  // a table name in pieces: schema . table
  if (s.pending !== undefined) {
    if (raw === '.') {
      s.pending += '.'
      s.pendingDot = true
      return
    }
    if (s.pendingDot && (word || quoted)) {
      s.pending += raw
      s.pendingDot = false
      return
    }
    if (raw === '(' && s.pendingMayBeFunction) {
      // `FROM generate_series(…)`: a function, not a table
      s.pending = undefined
      s.pendingDot = false
    } else commitPending(s)
  }
  if (raw === ';') {
    endStatement(s)
    s.statementStart = true
    s.depth = 0
    s.prevPunct = '^'
    return
  }
  if (raw === '(') {
    s.depth++
    s.expectTarget = false
    return
  }
  if (raw === ')') {
    s.depth--
    if (s.depth < s.listDepth) s.listDepth = -1
    return
  }
  const atStart = s.statementStart
  s.statementStart = false
  if (s.ddl !== undefined) {
    const verb = s.ddl
    if (flags & DDL_MODIFIER) return
    s.ddl = undefined
    if (word) {
      addOperation(s, `${verb} ${raw}`)
      expect(s, false, s.ddlIsDrop ? s.depth : -1)
      return
    }
  }
  if (word) {
    if (atStart && !(flags & WITH)) {
      if (flags & DDL) {
        s.ddl = raw
        s.ddlIsDrop = (flags & DROP) !== 0
        return
      }
      addOperation(s, raw)
      if (flags & STATEMENT_TARGET) expect(s, false, flags & LIST_STATEMENT ? s.depth : -1)
      return
    }
    if (flags & DML && !(prevFlags & NOT_AFTER) && prevPunct !== ',') {
      const select = (flags & SELECT) !== 0
      const boundary =
        prevPunct === '^' || prevPunct === '(' || prevPunct === ')' || prevPunct === ';' || (prevFlags & BOUNDARY) !== 0
      if (select || boundary) {
        addOperation(s, raw)
        if (flags & UPDATE) expect(s, false, -1)
        else s.listDepth = -1
        return
      }
    }
    if (s.expectTarget) {
      if (flags & SKIP) return
      s.expectTarget = false
      if (!(flags & CLAUSE)) {
        startPending(s, raw)
        return
      }
    }
    if (flags & TARGET_AFTER) {
      expect(s, !(flags & INTO), flags & FROM_LIST ? s.depth : -1)
      return
    }
    if (flags & CLAUSE && !(flags & JOIN)) s.listDepth = -1
    return
  }
  if (quoted && s.expectTarget) {
    s.expectTarget = false
    startPending(s, raw)
    return
  }
  if (raw === ',' && s.listDepth === s.depth && s.listDepth >= 0) {
    expect(s, true, s.listDepth)
    return
  }
  s.expectTarget = false
}

function expect(s: SummaryState, mayBeFunction: boolean, listDepth: number): void {
  s.expectTarget = true
  s.targetMayBeFunction = mayBeFunction
  s.listDepth = listDepth
}

function startPending(s: SummaryState, raw: string): void {
  s.pending = raw
  s.pendingDot = false
  s.pendingMayBeFunction = s.targetMayBeFunction
}
