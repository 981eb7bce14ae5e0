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

// Character classes, by char code: one table load per character (hot path: the lexer's inner loops).
const IDENT_START = 1
const IDENT_PART = 2
const DIGIT = 4
const SPACE = 8
const ASCII_CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95
  const digit = c >= 48 && c <= 57
  ASCII_CLASS[c] =
    (letter ? IDENT_START | IDENT_PART : 0) |
    (digit ? DIGIT | IDENT_PART : 0) |
    (c === 36 /* $ */ ? IDENT_PART : 0) |
    (c === 32 || (c >= 9 && c <= 13) ? SPACE : 0)
}
/** Classes of a char code (NaN past the end has none); every non-ASCII character may be in a name. */
const charClass = (c: number) => (c < 128 ? (ASCII_CLASS[c] as number) : c >= 128 ? IDENT_START | IDENT_PART : 0)
const isDigit = (c: number) => (charClass(c) & DIGIT) !== 0
const isIdentStart = (c: number) => (charClass(c) & IDENT_START) !== 0
const isIdentPart = (c: number) => (charClass(c) & IDENT_PART) !== 0
const isSpace = (c: number) => (charClass(c) & SPACE) !== 0

// Keyword classes, as bit flags (hot path: most words are not keywords, and a word is looked up
// by a hash computed while it is scanned, so it is never sliced or lower-cased to be looked up).
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

/** The running hash of a word, ASCII case-folded (`c | 32`), the same for `select`, `SELECT`, `Select`. */
const hashStep = (h: number, c: number) => (Math.imul(h, 31) + (c | 32)) | 0
// Open addressing: slot -> keyword index + 1; collisions probe to the next slot.
const KEYWORD_SLOTS = new Int32Array(1024)
const KEYWORD_TEXT: string[] = []
const KEYWORD_FLAGS: number[] = []
function keywords(flags: number, words: string): void {
  for (const word of words.split(' ')) {
    let h = 0
    for (let k = 0; k < word.length; k++) h = hashStep(h, word.charCodeAt(k))
    let slot = h & 1023
    for (;;) {
      const at = KEYWORD_SLOTS[slot] as number
      if (at === 0) {
        KEYWORD_TEXT.push(word)
        KEYWORD_FLAGS.push(flags)
        KEYWORD_SLOTS[slot] = KEYWORD_TEXT.length
        break
      }
      if (KEYWORD_TEXT[at - 1] === word) {
        KEYWORD_FLAGS[at - 1] = (KEYWORD_FLAGS[at - 1] as number) | flags
        break
      }
      slot = (slot + 1) & 1023
    }
  }
}

/** Keyword flags of `sql[start, end)` (0 for identifiers), given its hash; ASCII case-insensitive. */
function keywordFlags(sql: string, start: number, end: number, h: number): number {
  const len = end - start
  for (let slot = h & 1023; ; slot = (slot + 1) & 1023) {
    const at = KEYWORD_SLOTS[slot] as number
    if (at === 0) return 0
    const word = KEYWORD_TEXT[at - 1] as string
    if (word.length !== len) continue
    let k = 0
    // keywords are lower-case letters, so `c | 32` matches exactly their two spellings
    while (k < len && (sql.charCodeAt(start + k) | 32) === word.charCodeAt(k)) k++
    if (k === len) return KEYWORD_FLAGS[at - 1] as number
  }
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

/** Statements per cache generation: at most twice this many are kept. */
const CACHE_GENERATION = 500
/** Longer statements are analyzed every time (they are rarely sent twice, and would pin memory). */
const CACHE_MAX_TEXT = 8192
// A bounded least-recently-used cache in two generations (the hashlru scheme): a statement used
// since the last rotation is in `recent`; when `recent` fills it becomes `older`, and whatever is
// not used again before the next rotation is dropped. O(1), no reordering on a hit.
let recent = new Map<string, SqlInfo>()
let older = new Map<string, SqlInfo>()

/**
 * `analyzeSql` with a bounded cache: applications send a few hundred distinct statements, so
 * the common case is one Map lookup (hot path: a query span costs no SQL parsing after warm-up).
 */
export function sqlInfo(sql: string): SqlInfo {
  let info = recent.get(sql)
  if (info !== undefined) return info
  info = older.get(sql)
  if (info === undefined) {
    info = analyzeSql(sql)
    if (sql.length > CACHE_MAX_TEXT) return info
  }
  if (recent.size >= CACHE_GENERATION) {
    older = recent
    recent = new Map()
  }
  recent.set(sql, info)
  return info
}

interface SummaryState {
  /** The statement, for slicing a word only when the summary keeps it. */
  sql: string
  parts: string[]
  length: number
  operations: string[]
  targets: string[]
  /** Keyword flags of the previous token if it was a word, else 0. */
  prevFlags: number
  /** The previous token's kind: WORD, START, or the char code of punctuation (`?` a literal, `$` a parameter, `"` a quoted name). */
  prevPunct: number
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

// Token kinds for `token()`: a word, the start of a statement (for prevPunct), else a char code.
const WORD = 0
const START = -1
const QUOTED = 34 /* " */
const LITERAL = 63 /* ? */
const PARAMETER = 36 /* $ */

function scan(sql: string, maxLength: number): SqlInfo {
  const n = sql.length
  // `text` is built from runs of the input between replacements: `out` holds the finished part,
  // [copyFrom, i) is input not yet copied.
  let out = ''
  let copyFrom = 0
  let textDone = false
  /** The text would pass maxLength once `i` passes this (kept in step with `out` and `copyFrom`). */
  let limit = maxLength
  // IN-list collapsing: `out` up to `(` of `IN (`, and whether only literals followed.
  let inList: string | undefined
  let inListClean = false
  let inListSeenValue = false
  let afterIn = false

  const s: SummaryState = {
    sql,
    parts: [],
    length: 0,
    operations: [],
    targets: [],
    prevFlags: 0,
    prevPunct: START,
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

  let i = 0
  while (i < n) {
    let c = sql.charCodeAt(i)
    if (isSpace(c)) {
      i++
      while (i < n && isSpace(sql.charCodeAt(i))) i++
      if (i === n) break
      c = sql.charCodeAt(i)
    }
    if (i > limit && !textDone) {
      out += sql.slice(copyFrom, i)
      copyFrom = i
      textDone = true
    }
    if (textDone && s.full) break
    const start = i
    // comments: removed from the text (they may carry anything), invisible to the summary
    if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      i = sql.indexOf('\n', i + 2)
      if (i < 0) i = n
      if (!textDone) {
        out += `${sql.slice(copyFrom, start)} `
        copyFrom = i
        limit = maxLength + copyFrom - out.length
      }
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
      if (!textDone) {
        out += `${sql.slice(copyFrom, start)} `
        copyFrom = i
        limit = maxLength + copyFrom - out.length
      }
      continue
    }
    let literal = false
    if (c === 39 /* ' */) {
      i = skipQuoted(sql, i, 39, false)
      literal = true
    } else if (c === 34 /* " */) {
      i = skipQuoted(sql, i, 34, false)
      token(s, QUOTED, start, i, 0)
      afterIn = false
      if (inList !== undefined) inListClean = false
      continue
    } else if (c === 36 /* $ */) {
      const next = sql.charCodeAt(i + 1)
      if (isDigit(next)) {
        // a parameter ($1): kept as written (semconv: placeholders are not sanitized)
        i += 2
        while (i < n && isDigit(sql.charCodeAt(i))) i++
        token(s, PARAMETER, start, i, 0)
        if (inList !== undefined) inListClean = false
        afterIn = false
        continue
      }
      const end = dollarQuoteEnd(sql, i)
      if (end > 0) {
        i = end
        literal = true
      } else {
        i++
        token(s, PARAMETER, start, i, 0)
        continue
      }
    } else if (isDigit(c) || (c === 46 /* . */ && isDigit(sql.charCodeAt(i + 1)))) {
      i = skipNumber(sql, i)
      literal = true
    } else if (isIdentStart(c)) {
      let h = hashStep(0, c)
      i++
      while (i < n) {
        const d = sql.charCodeAt(i)
        if (!isIdentPart(d)) break
        h = hashStep(h, d)
        i++
      }
      const len = i - start
      const next = sql.charCodeAt(i)
      const lower = c | 32
      // prefixed strings: E'…' (backslash escapes), B'…', X'…', N'…', U&'…'
      if (next === 39 && len === 1 && (lower === 101 || lower === 98 || lower === 120 || lower === 110)) {
        i = skipQuoted(sql, i, 39, lower === 101)
        literal = true
      } else if (len === 1 && lower === 117 && next === 38 /* & */ && sql.charCodeAt(i + 1) === 39) {
        i = skipQuoted(sql, i + 1, 39, false)
        literal = true
      } else {
        const flags = len <= LONGEST_KEYWORD ? keywordFlags(sql, start, i, h) : 0
        if (flags & BOOLEAN) literal = true
        else {
          if (inList !== undefined) inListClean = false
          afterIn = (flags & IN) !== 0
          // hot path: a plain name (a column, an alias) with no summary state waiting on it is what
          // most words are; it only becomes the previous token (token() would do the same)
          if (flags === 0 && s.pending === undefined && s.ddl === undefined && !s.statementStart && !s.expectTarget) {
            s.prevFlags = 0
            s.prevPunct = WORD
          } else token(s, WORD, start, i, flags)
          continue
        }
      }
    } else {
      // punctuation
      i++
      if (c === 40 /* ( */) {
        if (afterIn && !textDone) {
          out += sql.slice(copyFrom, i)
          copyFrom = i
          inList = out
          inListClean = true
          inListSeenValue = false
        } else if (inList !== undefined) inListClean = false
      } else if (c === 41 /* ) */ && inList !== undefined) {
        if (inListClean && inListSeenValue && !textDone) {
          out = `${inList}?)`
          copyFrom = i
          limit = maxLength + copyFrom - out.length
        }
        inList = undefined
      } else if (c !== 44 /* , */ && inList !== undefined) {
        // `IN (1 + 2)`, casts …: not a plain list, keep it as sanitized
        if (c !== 58 /* : */) inListClean = false
      }
      afterIn = false
      punctuation(s, c, start, i)
      continue
    }
    if (literal) {
      afterIn = false
      if (inList !== undefined) inListSeenValue = true
      if (!textDone) {
        out += `${sql.slice(copyFrom, start)}?`
        copyFrom = Math.min(i, n)
        limit = maxLength + copyFrom - out.length
      }
      punctuation(s, LITERAL, start, i)
    }
  }
  if (!textDone) out += sql.slice(copyFrom, n)
  endStatement(s)
  if (out.length > maxLength) out = out.slice(0, maxLength)
  return {
    text: out.trim(),
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

/**
 * Feeds one significant token to the summary state machine: `kind` is WORD (with its keyword
 * `flags`), QUOTED, LITERAL, PARAMETER or a punctuation char code; the token is `sql[start, end)`,
 * sliced only when the summary keeps it.
 */
function token(s: SummaryState, kind: number, start: number, end: number, flags: number): void {
  const prevFlags = s.prevFlags
  const prevPunct = s.prevPunct
  s.prevFlags = flags
  s.prevPunct = kind
  const word = kind === WORD
  // a table name in pieces: schema . table
  if (s.pending !== undefined) {
    if (kind === 46 /* . */) {
      s.pending += '.'
      s.pendingDot = true
      return
    }
    if (s.pendingDot && (word || kind === QUOTED)) {
      s.pending += s.sql.slice(start, end)
      s.pendingDot = false
      return
    }
    if (kind === 40 /* ( */ && s.pendingMayBeFunction) {
      // `FROM generate_series(…)`: a function, not a table
      s.pending = undefined
      s.pendingDot = false
    } else commitPending(s)
  }
  if (kind === 59 /* ; */) {
    endStatement(s)
    s.statementStart = true
    s.depth = 0
    s.prevPunct = START
    return
  }
  if (kind === 40 /* ( */) {
    s.depth++
    s.expectTarget = false
    return
  }
  if (kind === 41 /* ) */) {
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
      addOperation(s, `${verb} ${s.sql.slice(start, end)}`)
      expect(s, false, s.ddlIsDrop ? s.depth : -1)
      return
    }
  }
  if (word) {
    if (atStart && !(flags & WITH)) {
      if (flags & DDL) {
        s.ddl = s.sql.slice(start, end)
        s.ddlIsDrop = (flags & DROP) !== 0
        return
      }
      addOperation(s, s.sql.slice(start, end))
      if (flags & STATEMENT_TARGET) expect(s, false, flags & LIST_STATEMENT ? s.depth : -1)
      return
    }
    if (flags & DML && !(prevFlags & NOT_AFTER) && prevPunct !== 44 /* , */) {
      const select = (flags & SELECT) !== 0
      const boundary =
        prevPunct === START ||
        prevPunct === 40 /* ( */ ||
        prevPunct === 41 /* ) */ ||
        prevPunct === 59 /* ; */ ||
        (prevFlags & BOUNDARY) !== 0
      if (select || boundary) {
        addOperation(s, s.sql.slice(start, end))
        if (flags & UPDATE) expect(s, false, -1)
        else s.listDepth = -1
        return
      }
    }
    if (s.expectTarget) {
      if (flags & SKIP) return
      s.expectTarget = false
      if (!(flags & CLAUSE)) {
        startPending(s, s.sql.slice(start, end))
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
  if (kind === QUOTED && s.expectTarget) {
    s.expectTarget = false
    startPending(s, s.sql.slice(start, end))
    return
  }
  if (kind === 44 /* , */ && s.listDepth === s.depth && s.listDepth >= 0) {
    expect(s, true, s.listDepth)
    return
  }
  s.expectTarget = false
}

/**
 * A punctuation, literal or parameter token. hot path: unless a table name is being read or it is
 * `;`, `(`, `)` or `,`, such a token only ends what was awaited, which is what token() would do.
 */
function punctuation(s: SummaryState, kind: number, start: number, end: number): void {
  if (s.pending === undefined && kind !== 59 && kind !== 40 && kind !== 41 && kind !== 44) {
    s.prevFlags = 0
    s.prevPunct = kind
    s.statementStart = false
    s.ddl = undefined
    s.expectTarget = false
  } else token(s, kind, start, end, 0)
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
