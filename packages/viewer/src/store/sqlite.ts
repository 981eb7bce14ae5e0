import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { DependencyCounter } from '../analysis/dependencies.js'
import { ViewerError } from '../errors.js'
import type { Attrs, AttrValue, SpanKindName, SpanRow, StoredSpan } from '../model.js'
import { MAX_INDEXED_VALUE, summarizeSpans } from './memory.js'
import type {
  DependencyEdge,
  DurationQuery,
  DurationSample,
  Operation,
  RowFilter,
  Store,
  StoreStats,
  TraceQuery,
  TraceSummary,
} from './store.js'

export interface SqliteStoreOptions {
  /** The database file; created with its folder's permissions when missing. */
  path: string
}

/**
 * 2 added an attribute index (a row per trace and `key=value`); 3 numbers traces (`trace_no`) and
 * stores the index as posting lists. A version 1 or 2 file is migrated on open (the index is
 * rebuilt from its spans).
 */
const SCHEMA_VERSION = '3'
/**
 * An attribute value naming more traces than this is not read from the index: so common, the
 * newest-first walk finds matches at once (10k of 125k traces: ~13 traces walked per match).
 */
const MANY_TRACES = 10_000

/** Traces in arrival order: `trace_no` is what the attribute index lists. */
const TRACES_TABLE = `CREATE TABLE IF NOT EXISTS traces (
  trace_no INTEGER PRIMARY KEY, trace_id TEXT NOT NULL UNIQUE, start_us REAL NOT NULL, end_us REAL NOT NULL,
  span_count INTEGER NOT NULL, error_count INTEGER NOT NULL
)`

/** Schema 1 and 2 keyed traces by their hex id only: number them, oldest first; drop the old index. */
const MIGRATE_TRACES = `
  DROP INDEX IF EXISTS traces_start;
  DROP INDEX IF EXISTS traces_end;
  ALTER TABLE traces RENAME TO traces_old;
  ${TRACES_TABLE};
  INSERT INTO traces (trace_id, start_us, end_us, span_count, error_count)
    SELECT trace_id, start_us, end_us, span_count, error_count FROM traces_old ORDER BY start_us;
  DROP TABLE traces_old;
  DROP TABLE IF EXISTS attributes;
`

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS resources (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT,
    service TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    start_us REAL NOT NULL, duration_us REAL NOT NULL, error INTEGER NOT NULL, db_system TEXT,
    resource_id INTEGER NOT NULL, body TEXT NOT NULL,
    UNIQUE (trace_id, span_id)
  );
  CREATE INDEX IF NOT EXISTS spans_service_start ON spans (service, start_us);
  CREATE INDEX IF NOT EXISTS spans_start ON spans (start_us);
  ${TRACES_TABLE};
  CREATE INDEX IF NOT EXISTS traces_start ON traces (start_us);
  CREATE INDEX IF NOT EXISTS traces_end ON traces (end_us);
  CREATE TABLE IF NOT EXISTS operations (
    service TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (service, kind, name)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS attribute_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS attribute_postings (
    key_id INTEGER NOT NULL, value TEXT NOT NULL, write_no INTEGER NOT NULL, count INTEGER NOT NULL,
    first_trace_no INTEGER NOT NULL, traces BLOB NOT NULL, PRIMARY KEY (key_id, value, write_no)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS attribute_postings_first ON attribute_postings (first_trace_no);
`

/** One trace's share of a write: its span totals and the `key=value` rows it already has. */
interface TraceWrite {
  /** `trace_no`, once the trace row is written. */
  no: number
  start: number
  end: number
  count: number
  errors: number
  /** The resource whose attributes were collected last (spans of one export share the object). */
  resource: Attrs | undefined
  seen: Set<string>
}

/** One `key=value` of a write and the traces that have it. */
interface PostingWrite {
  key: string
  value: string
  traces: TraceWrite[]
}

/** `node:sqlite` is experimental on Node 22 and says so once on load; silence only that warning. */
function loadSqlite(): typeof import('node:sqlite') {
  const original = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type
    const message = typeof warning === 'string' ? warning : warning.message
    if (
      (type === 'ExperimentalWarning' || (warning as Error).name === 'ExperimentalWarning') &&
      /sqlite/i.test(message)
    )
      return
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    return process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite')
  } finally {
    process.emitWarning = original
  }
}

/**
 * Spans in a SQLite file through Node's built-in `node:sqlite`, in WAL mode. Writes are group
 * committed: every `add` waiting at the same tick goes into one transaction, and each `add`
 * resolves only after that transaction committed with `synchronous=FULL` (fsync of the WAL),
 * so a span acknowledged to a client is on disk and survives a crash or power loss.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  private readonly db: DatabaseSync
  private readonly insertSpan: StatementSync
  private readonly upsertTrace: StatementSync
  private readonly insertOperation: StatementSync
  private readonly insertResource: StatementSync
  private readonly insertPosting: StatementSync
  private readonly saveWriteNo: StatementSync
  /** Numbers the posting rows of each write: a value's rows sit together, in write order. */
  private writeNo: number
  private readonly findResource: StatementSync
  private readonly insertKey: StatementSync
  private readonly findKey: StatementSync
  private readonly keyIds = new Map<string, number>()
  private resourceIds = new WeakMap<Attrs, number>()
  private readonly resourceJson = new Map<string, number>()
  private readonly knownOperations = new Set<string>()
  private pending: { spans: StoredSpan[]; resolve: (n: number) => void; reject: (e: unknown) => void }[] = []
  private flushScheduled = false
  private spanCount: number
  private traceCount: number
  private evicted = 0
  private duplicates = 0
  private closed = false
  private operationsRebuiltAt = 0

  constructor(options: SqliteStoreOptions) {
    const { DatabaseSync } = loadSqlite()
    let migrating = false
    let db: DatabaseSync | undefined
    try {
      db = new DatabaseSync(options.path)
      this.db = db
      this.db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA busy_timeout = 5000;
        PRAGMA cache_size = -65536;
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      `)
      const version = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as
        | { value: string }
        | undefined
      migrating = version?.value === '1' || version?.value === '2'
      if (version && !migrating && version.value !== SCHEMA_VERSION) {
        throw new Error(`schema version ${version.value}, this viewer reads version ${SCHEMA_VERSION}`)
      }
      // schema 1 or 2 → 3 in one transaction: traces get numbers (oldest first), the index is rebuilt
      if (migrating) this.db.exec(`BEGIN; ${MIGRATE_TRACES}`)
      this.db.exec(SCHEMA)
      this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION)
    } catch (error) {
      if (migrating) db?.exec('ROLLBACK')
      throw storeError(options.path, error)
    }
    this.insertSpan = this.db.prepare(
      `INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_us, duration_us, error, db_system, resource_id, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    // RETURNING span_count tells a new trace (the count just written) from a known one
    this.upsertTrace = this.db.prepare(
      `INSERT INTO traces (trace_id, start_us, end_us, span_count, error_count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (trace_id) DO UPDATE SET start_us = min(start_us, excluded.start_us), end_us = max(end_us, excluded.end_us),
         span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count
       RETURNING trace_no AS traceNo, span_count AS spanCount`,
    )
    this.insertOperation = this.db.prepare('INSERT OR IGNORE INTO operations (service, kind, name) VALUES (?, ?, ?)')
    this.insertPosting = this.db.prepare(
      'INSERT INTO attribute_postings (key_id, value, write_no, count, first_trace_no, traces) VALUES (?, ?, ?, ?, ?, ?)',
    )
    this.saveWriteNo = this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('write_no', ?)")
    this.writeNo = Number(
      (this.db.prepare("SELECT value FROM meta WHERE key = 'write_no'").get() as { value: string } | undefined)
        ?.value ?? 0,
    )
    this.insertKey = this.db.prepare('INSERT OR IGNORE INTO attribute_keys (key) VALUES (?)')
    this.findKey = this.db.prepare('SELECT id FROM attribute_keys WHERE key = ?')
    this.insertResource = this.db.prepare('INSERT OR IGNORE INTO resources (json) VALUES (?)')
    this.findResource = this.db.prepare('SELECT id FROM resources WHERE json = ?')
    if (migrating) {
      try {
        this.rebuildIndex()
        this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(SCHEMA_VERSION, 'schema')
        this.db.exec('COMMIT')
      } catch (error) {
        this.db.exec('ROLLBACK')
        throw storeError(options.path, error)
      }
    }
    this.spanCount = Number((this.db.prepare('SELECT count(*) AS n FROM spans').get() as { n: number }).n)
    this.traceCount = Number((this.db.prepare('SELECT count(*) AS n FROM traces').get() as { n: number }).n)
  }

  add(spans: StoredSpan[]): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    return new Promise((resolve, reject) => {
      this.pending.push({ spans, resolve, reject })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** One transaction for every batch that arrived since the last flush (group commit). */
  private flush(): void {
    this.flushScheduled = false
    const batches = this.pending
    this.pending = []
    if (batches.length === 0) return
    const added: number[] = []
    try {
      this.db.exec('BEGIN')
      const traces = new Map<string, TraceWrite>()
      const postings = new Map<string, PostingWrite>()
      for (const batch of batches) {
        let n = 0
        for (const span of batch.spans) {
          const result = this.insertSpan.run(
            span.traceId,
            span.spanId,
            span.parentSpanId ?? null,
            span.service,
            span.name,
            span.kind,
            span.startUs,
            span.durationUs,
            span.error ? 1 : 0,
            span.dbSystem ?? null,
            this.resourceId(span.resource),
            bodyOf(span),
          )
          if (result.changes === 0) {
            this.duplicates++
            continue
          }
          n++
          const end = span.startUs + span.durationUs
          let t = traces.get(span.traceId)
          if (t) {
            if (span.startUs < t.start) t.start = span.startUs
            if (end > t.end) t.end = end
            t.count++
            if (span.error) t.errors++
          } else {
            t = newTraceWrite(span.startUs, end, span.error)
            traces.set(span.traceId, t)
          }
          collectAttributes(t, span.attributes, postings)
          if (span.resource !== t.resource) {
            t.resource = span.resource
            collectAttributes(t, span.resource, postings)
          }
          const op = `${span.service}\u0000${span.kind}\u0000${span.name}`
          if (!this.knownOperations.has(op)) {
            this.insertOperation.run(span.service, span.kind, span.name)
            if (this.knownOperations.size > 100_000) this.knownOperations.clear()
            this.knownOperations.add(op)
          }
        }
        added.push(n)
      }
      let newTraces = 0
      for (const [traceId, t] of traces) {
        const row = this.upsertTrace.get(traceId, t.start, t.end, t.count, t.errors) as {
          traceNo: number
          spanCount: number
        }
        if (row.spanCount === t.count) newTraces++
        t.no = Number(row.traceNo)
      }
      this.writePostings(postings.values())
      this.db.exec('COMMIT')
      this.traceCount += newTraces
    } catch (error) {
      try {
        this.db.exec('ROLLBACK')
      } catch {}
      // rows this transaction inserted are gone with it: so are the ids cached for them
      this.forgetRowIds()
      for (const batch of batches) batch.reject(error)
      return
    }
    batches.forEach((batch, i) => {
      this.spanCount += added[i]!
      batch.resolve(added[i]!)
    })
  }

  /**
   * The attribute index as posting lists: one row per `key=value` per write, listing its traces,
   * not a row per trace and value (a 512-span export wrote ~1,200 index rows, now ~100; SQLite
   * ingest had fallen from ~36k to ~10k spans/s with the row-per-trace index).
   */
  private writePostings(postings: Iterable<PostingWrite>): void {
    const writeNo = ++this.writeNo
    for (const p of postings) {
      const numbers = p.traces.map((t) => t.no).sort((a, b) => a - b)
      this.insertPosting.run(
        this.keyId(p.key),
        p.value,
        writeNo,
        numbers.length,
        numbers[0]!,
        encodeTraceNumbers(numbers),
      )
    }
    this.saveWriteNo.run(String(writeNo))
  }

  private resourceId(resource: Attrs): number {
    const cached = this.resourceIds.get(resource)
    if (cached !== undefined) return cached
    const id = rowId(JSON.stringify(resource), this.resourceJson, this.insertResource, this.findResource)
    this.resourceIds.set(resource, id)
    return id
  }

  /** Drops the cached resource and attribute key ids (after their rows may have gone). */
  private forgetRowIds(): void {
    this.resourceIds = new WeakMap()
    this.resourceJson.clear()
    this.keyIds.clear()
  }

  private keyId(key: string): number {
    return rowId(key, this.keyIds, this.insertKey, this.findKey)
  }

  /** Fills the attribute index from the stored spans (migration from schema 1 or 2). */
  private rebuildIndex(): void {
    const resources = new Map<number, Attrs>()
    // spans by trace (their unique index's order); postings are written every 1,000 traces
    const rows = this.db
      .prepare(
        `SELECT s.body, s.resource_id AS rid, r.json, t.trace_no AS traceNo
         FROM spans s JOIN resources r ON r.id = s.resource_id JOIN traces t ON t.trace_id = s.trace_id
         ORDER BY s.trace_id`,
      )
      .iterate() as Iterable<{ body: string; rid: number; json: string; traceNo: number }>
    let postings = new Map<string, PostingWrite>()
    let current: TraceWrite | undefined
    let traces = 0
    for (const r of rows) {
      if (current?.no !== Number(r.traceNo)) {
        if (++traces % 1000 === 0) {
          this.writePostings(postings.values())
          postings = new Map()
        }
        current = newTraceWrite(0, 0, false)
        current.no = Number(r.traceNo)
      }
      let resource = resources.get(r.rid)
      if (!resource) {
        resource = JSON.parse(r.json) as Attrs
        if (resources.size > 10_000) resources.clear()
        resources.set(r.rid, resource)
      }
      collectAttributes(current, (JSON.parse(r.body) as { attributes?: Attrs }).attributes ?? {}, postings)
      collectAttributes(current, resource, postings)
    }
    this.writePostings(postings.values())
  }

  services(): string[] {
    return (
      this.db.prepare('SELECT DISTINCT service FROM operations ORDER BY service').all() as { service: string }[]
    ).map((r) => r.service)
  }

  operations(service: string, spanKind?: SpanKindName): Operation[] {
    const rows = this.db
      .prepare('SELECT name, kind FROM operations WHERE service = ? AND (? IS NULL OR kind = ?) ORDER BY name, kind')
      .all(service, spanKind ?? null, spanKind ?? null) as { name: string; kind: SpanKindName }[]
    return rows.map((r) => ({ name: r.name, spanKind: r.kind }))
  }

  search(query: TraceQuery): TraceSummary[] {
    const where: string[] = []
    const params: (string | number)[] = []
    if (query.service !== undefined) {
      where.push('s.service = ?')
      params.push(query.service)
    }
    if (query.operation !== undefined) {
      where.push('s.name = ?')
      params.push(query.operation)
    }
    if (query.spanKind !== undefined) {
      where.push('s.kind = ?')
      params.push(query.spanKind)
    }
    if (query.startUs !== undefined) {
      where.push('s.start_us >= ?')
      params.push(query.startUs)
    }
    if (query.endUs !== undefined) {
      where.push('s.start_us <= ?')
      params.push(query.endUs)
    }
    if (query.minDurationUs !== undefined) {
      where.push('s.duration_us >= ?')
      params.push(query.minDurationUs)
    }
    if (query.maxDurationUs !== undefined) {
      where.push('s.duration_us <= ?')
      params.push(query.maxDurationUs)
    }
    // the attribute index narrows the traces to check; the span check below still decides
    const traceWhere: string[] = []
    const traceParams: (string | number)[] = []
    const candidates = this.attributeCandidates(query.attributes)
    if (candidates !== undefined && candidates.size === 0) return []
    for (const [key, value] of Object.entries(query.attributes ?? {})) {
      const quoted = `"${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
      where.push(
        'coalesce(s.body -> ?, (SELECT r.json -> ? FROM resources r WHERE r.id = s.resource_id)) IN (json_quote(?), ?)',
      )
      params.push(`$.attributes.${quoted}`, `$.${quoted}`, value, value)
    }
    if (query.errorsOnly) traceWhere.push('t.error_count > 0')
    if (query.startUs !== undefined) {
      traceWhere.push('t.end_us >= ?')
      traceParams.push(query.startUs)
    }
    if (query.endUs !== undefined) {
      traceWhere.push('t.start_us <= ?')
      traceParams.push(query.endUs)
    }
    // the span check probes one trace's spans by trace id; the unary + keeps SQLite from answering
    // it through the service index instead (a scan per trace)
    const probe = where.map((w) => `+${w}`).join(' AND ')
    const limit = Math.max(1, query.limit)
    const conditions = traceWhere.length ? `WHERE ${traceWhere.join(' AND ')}` : ''
    let ids: { traceId: string }[]
    if (candidates !== undefined) {
      // candidates newest first, then their spans until `limit` match (checking every candidate's
      // spans before sorting cost ~0.1 ms each). Few candidates: sort them (a trace row each);
      // many: walk all traces newest first and skip the others, ~limit × traces / n rows
      const ordered = (
        candidates.size ** 2 <= limit * this.traceCount
          ? this.db
              .prepare(
                `SELECT t.trace_no AS no, t.trace_id AS traceId FROM json_each(?) x
                 CROSS JOIN traces t ON t.trace_no = x.value ${conditions} ORDER BY t.start_us DESC`,
              )
              .iterate(JSON.stringify([...candidates]), ...traceParams)
          : this.db
              .prepare(
                `SELECT t.trace_no AS no, t.trace_id AS traceId FROM traces t ${conditions} ORDER BY t.start_us DESC`,
              )
              .iterate(...traceParams)
      ) as Iterable<{ no: number; traceId: string }>
      const check = this.db.prepare(`SELECT 1 FROM spans s WHERE s.trace_id = ? AND ${probe} LIMIT 1`)
      ids = []
      for (const row of ordered) {
        if (!candidates.has(Number(row.no)) || check.get(row.traceId, ...params) === undefined) continue
        ids.push(row)
        if (ids.length >= limit) break
      }
    } else {
      // walk traces newest first and probe each one's spans
      if (where.length) {
        traceWhere.push(`EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND ${probe})`)
        traceParams.push(...params)
      }
      const sql = `SELECT t.trace_id AS traceId FROM traces t ${traceWhere.length ? `WHERE ${traceWhere.join(' AND ')}` : ''}
        ORDER BY t.start_us DESC LIMIT ?`
      ids = this.db.prepare(sql).all(...traceParams, limit) as { traceId: string }[]
    }
    const rowsOf = this.db.prepare(
      'SELECT trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, service, name, kind, start_us AS startUs, duration_us AS durationUs, error, db_system AS dbSystem FROM spans WHERE trace_id = ?',
    )
    return ids.map(({ traceId }) => summarizeSpans(traceId, (rowsOf.all(traceId) as unknown as RawRow[]).map(toRow)))
  }

  /**
   * Trace numbers that may match every indexable attribute filter (the intersection of their
   * postings; stale numbers of pruned traces are harmless), empty when one matches no trace, or
   * undefined when no filter is indexable or rare enough to be worth reading.
   */
  private attributeCandidates(attributes: Record<string, string> | undefined): Set<number> | undefined {
    let result: Set<number> | undefined
    for (const [key, value] of Object.entries(attributes ?? {})) {
      if (!indexable(value)) continue
      const keyRow = this.findKey.get(key) as { id: number } | undefined
      if (keyRow === undefined) return new Set()
      const where = 'FROM attribute_postings WHERE key_id = ? AND value = ?'
      const n = Number(
        (this.db.prepare(`SELECT coalesce(sum(count), 0) AS n ${where}`).get(keyRow.id, value) as { n: number }).n,
      )
      if (n === 0) return new Set()
      if (n > MANY_TRACES) continue
      const numbers: number[] = []
      for (const row of this.db.prepare(`SELECT traces ${where}`).iterate(keyRow.id, value) as Iterable<{
        traces: Uint8Array
      }>)
        decodeTraceNumbers(row.traces, numbers)
      if (result === undefined) result = new Set(numbers)
      else {
        const next = new Set<number>()
        for (const n of numbers) if (result.has(n)) next.add(n)
        result = next
      }
      if (result.size === 0) return result
    }
    return result
  }

  trace(traceId: string): StoredSpan[] | undefined {
    const rows = this.db
      .prepare(
        `SELECT s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.kind, s.start_us, s.duration_us, s.error,
           s.db_system, s.body, r.json AS resource, s.resource_id
         FROM spans s JOIN resources r ON r.id = s.resource_id WHERE s.trace_id = ? ORDER BY s.start_us`,
      )
      .all(traceId) as Record<string, string | number | null>[]
    if (rows.length === 0) return undefined
    const resources = new Map<number, Attrs>()
    return rows.map((r) => {
      let resource = resources.get(r['resource_id'] as number)
      if (!resource) {
        resource = JSON.parse(r['resource'] as string) as Attrs
        resources.set(r['resource_id'] as number, resource)
      }
      const body = JSON.parse(r['body'] as string) as Omit<StoredSpan, keyof SpanRow | 'resource'>
      return {
        traceId: r['trace_id'] as string,
        spanId: r['span_id'] as string,
        parentSpanId: (r['parent_span_id'] as string | null) ?? undefined,
        service: r['service'] as string,
        name: r['name'] as string,
        kind: r['kind'] as SpanKindName,
        startUs: r['start_us'] as number,
        durationUs: r['duration_us'] as number,
        error: r['error'] === 1,
        dbSystem: (r['db_system'] as string | null) ?? undefined,
        ...body,
        resource,
      }
    })
  }

  dependencies(startUs: number, endUs: number): DependencyEdge[] {
    const counter = new DependencyCounter()
    type Call = { parent: string; child: string; duration_us: number; error: number }
    // one row per call (not GROUP BY): the p95 of each edge needs every duration
    const calls = this.db
      .prepare(
        `SELECT p.service AS parent, c.service AS child, c.duration_us, c.error
         FROM spans c JOIN spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
         WHERE c.start_us BETWEEN ? AND ? AND p.service <> c.service`,
      )
      .iterate(startUs, endUs) as Iterable<Call>
    for (const e of calls) counter.add(e.parent, e.child, 'service', Number(e.duration_us), e.error === 1)
    const databases = this.db
      .prepare(
        `SELECT service AS parent, db_system AS child, duration_us, error FROM spans
         WHERE db_system IS NOT NULL AND start_us BETWEEN ? AND ?`,
      )
      .iterate(startUs, endUs) as Iterable<Call>
    for (const e of databases) counter.add(e.parent, e.child, 'database', Number(e.duration_us), e.error === 1)
    return counter.result()
  }

  rows(filter: RowFilter): SpanRow[] {
    const rows = this.db
      .prepare(
        `SELECT trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, service, name, kind,
           start_us AS startUs, duration_us AS durationUs, error, db_system AS dbSystem
         FROM spans WHERE start_us BETWEEN ? AND ? AND (? IS NULL OR service = ?) AND (? IS NULL OR name = ?)`,
      )
      .all(
        filter.startUs,
        filter.endUs,
        filter.service ?? null,
        filter.service ?? null,
        filter.operation ?? null,
        filter.operation ?? null,
      ) as unknown as RawRow[]
    return rows.map(toRow)
  }

  durations(query: DurationQuery): DurationSample {
    // spans_service_start serves both: service equality, then the start range (newest first)
    const where = `service = ? AND start_us BETWEEN ? AND ? AND name = ? AND (? IS NULL OR kind = ?)`
    const args = [
      query.service,
      query.startUs,
      query.endUs,
      query.operation,
      query.spanKind ?? null,
      query.spanKind ?? null,
    ] as const
    const counts = this.db
      .prepare(`SELECT count(*) AS total, coalesce(sum(duration_us > ?), 0) AS breaches FROM spans WHERE ${where}`)
      .get(query.thresholdUs ?? Number.MAX_VALUE, ...args) as { total: number; breaches: number }
    const rows = this.db
      .prepare(`SELECT duration_us AS d FROM spans WHERE ${where} ORDER BY start_us DESC LIMIT ?`)
      .all(...args, query.limit) as { d: number }[]
    const sample: DurationSample = { total: Number(counts.total), durationsUs: rows.map((r) => Number(r.d)) }
    if (query.thresholdUs !== undefined) sample.breaches = Number(counts.breaches)
    return sample
  }

  prune(cutoffUs: number): number {
    this.flush()
    this.db.exec('BEGIN')
    try {
      this.prunePostings(cutoffUs)
      const removed = this.db
        .prepare('DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM traces WHERE end_us < ?)')
        .run(cutoffUs)
      const traces = this.db.prepare('DELETE FROM traces WHERE end_us < ?').run(cutoffUs)
      // forget operations, resources and attribute keys nothing refers to any more (each process
      // restart brings a resource of its own: process.pid); full scans, so at most once an hour
      if (Number(removed.changes) > 0 && Date.now() - this.operationsRebuiltAt > 3_600_000) {
        this.operationsRebuiltAt = Date.now()
        this.db.exec(`
          DELETE FROM operations; INSERT INTO operations SELECT DISTINCT service, kind, name FROM spans;
          DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM spans);
          DELETE FROM attribute_keys WHERE id NOT IN (SELECT key_id FROM attribute_postings);
        `)
        this.knownOperations.clear()
        // the ids of deleted rows may be handed out again: no cached id may outlive its row
        this.forgetRowIds()
      }
      this.db.exec('COMMIT')
      const n = Number(removed.changes)
      this.spanCount -= n
      this.traceCount -= Number(traces.changes)
      this.evicted += n
      return n
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
  }

  /** Takes the traces that end before the cutoff out of the posting lists that name them. */
  private prunePostings(cutoffUs: number): void {
    const gone = new Set<number>()
    let last = 0
    for (const row of this.db
      .prepare('SELECT trace_no AS n FROM traces WHERE end_us < ?')
      .iterate(cutoffUs) as Iterable<{
      n: number
    }>) {
      gone.add(Number(row.n))
      if (Number(row.n) > last) last = Number(row.n)
    }
    if (gone.size === 0) return
    // a posting lists the traces of one write, numbered from first_trace_no up
    const rows = this.db
      .prepare(
        'SELECT key_id AS k, value AS v, write_no AS w, traces FROM attribute_postings WHERE first_trace_no <= ?',
      )
      .all(last) as { k: number; v: string; w: number; traces: Uint8Array }[]
    const at = 'WHERE key_id = ? AND value = ? AND write_no = ?'
    const remove = this.db.prepare(`DELETE FROM attribute_postings ${at}`)
    const update = this.db.prepare(`UPDATE attribute_postings SET count = ?, first_trace_no = ?, traces = ? ${at}`)
    for (const row of rows) {
      const numbers: number[] = []
      decodeTraceNumbers(row.traces, numbers)
      const kept = numbers.filter((n) => !gone.has(n))
      if (kept.length === numbers.length) continue
      if (kept.length === 0) remove.run(row.k, row.v, row.w)
      else update.run(kept.length, kept[0]!, encodeTraceNumbers(kept), row.k, row.v, row.w)
    }
  }

  stats(): StoreStats {
    return {
      spans: this.spanCount,
      traces: this.traceCount,
      evictedSpans: this.evicted,
      duplicateSpans: this.duplicates,
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.flush()
    this.closed = true
    this.db.close()
  }
}

interface RawRow extends Omit<SpanRow, 'error' | 'parentSpanId' | 'dbSystem'> {
  error: number
  parentSpanId: string | null
  dbSystem: string | null
}

function toRow(r: RawRow): SpanRow {
  return {
    traceId: r.traceId,
    spanId: r.spanId,
    parentSpanId: r.parentSpanId ?? undefined,
    service: r.service,
    name: r.name,
    kind: r.kind,
    startUs: r.startUs,
    durationUs: r.durationUs,
    error: r.error === 1,
    dbSystem: r.dbSystem ?? undefined,
  }
}

/**
 * An attribute value as the search's SQL sees it in the stored JSON (`->` gives JSON text, compared
 * with the filter's text): strings as is, numbers as JSON writes them (non-finite ones as `null`),
 * booleans and null as their JSON; objects and arrays are not indexed, nor are long values.
 */
export function sqliteText(value: AttrValue | undefined): string | undefined {
  let text: string
  if (value === undefined) return undefined
  if (value === null) text = 'null'
  else if (typeof value === 'string') text = value
  else if (typeof value === 'number') text = Number.isFinite(value) ? String(value) : 'null'
  else if (typeof value === 'boolean') text = value ? 'true' : 'false'
  else return undefined
  return text.length <= MAX_INDEXED_VALUE ? text : undefined
}

/**
 * Whether a filter value can be answered from the index: not too long, and not the JSON of a
 * string, array or object (`"x"`, `[…]`, `{…}` match such values' JSON text, which is not indexed).
 */
function indexable(value: string): boolean {
  return value.length <= MAX_INDEXED_VALUE && !/^\s*["[{]/.test(value)
}

function storeError(path: string, error: unknown): ViewerError {
  return new ViewerError('TL_ERR_VIEWER_STORE', `cannot use ${path} as a trace store: ${(error as Error).message}`)
}

function newTraceWrite(start: number, end: number, error: boolean): TraceWrite {
  return { no: 0, start, end, count: 1, errors: error ? 1 : 0, resource: undefined, seen: new Set() }
}

/** Lists the trace under each of the attributes' `key=value` (`sqliteText`), once per value. */
function collectAttributes(t: TraceWrite, attributes: Attrs, postings: Map<string, PostingWrite>): void {
  for (const key in attributes) {
    const value = sqliteText(attributes[key])
    if (value === undefined) continue
    const row = `${key}\u0000${value}`
    if (t.seen.has(row)) continue
    t.seen.add(row)
    const posting = postings.get(row)
    if (posting === undefined) postings.set(row, { key, value, traces: [t] })
    else posting.traces.push(t)
  }
}

/** Ascending trace numbers as varint deltas: ~1–3 bytes a trace. */
function encodeTraceNumbers(sorted: readonly number[]): Uint8Array {
  const out = new Uint8Array(sorted.length * 8 + 8)
  let at = 0
  let previous = 0
  for (const n of sorted) {
    let delta = n - previous
    previous = n
    while (delta >= 0x80) {
      out[at++] = (delta % 0x80) | 0x80
      delta = Math.floor(delta / 0x80)
    }
    out[at++] = delta
  }
  return out.subarray(0, at)
}

function decodeTraceNumbers(bytes: Uint8Array, into: number[]): void {
  let previous = 0
  let at = 0
  while (at < bytes.length) {
    let delta = 0
    let scale = 1
    let b: number
    do {
      b = bytes[at++]!
      delta += (b & 0x7f) * scale
      scale *= 0x80
    } while (b >= 0x80 && at < bytes.length)
    previous += delta
    into.push(previous)
  }
}

/** What the columns do not hold. */
function bodyOf(span: StoredSpan): string {
  return JSON.stringify({
    status: span.status,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    scope: span.scope,
    traceState: span.traceState,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  })
}

/** The id of the row holding `text` (inserted if new), remembered in `cache` (at most 10,000). */
function rowId(text: string, cache: Map<string, number>, insert: StatementSync, find: StatementSync): number {
  let id = cache.get(text)
  if (id === undefined) {
    insert.run(text)
    id = Number((find.get(text) as { id: number }).id)
    if (cache.size > 10_000) cache.clear()
    cache.set(text, id)
  }
  return id
}
