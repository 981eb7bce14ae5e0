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

/** 2 added the `attributes` index; a version 1 file is migrated (filled from its spans) on open. */
const SCHEMA_VERSION = '2'
/** An attribute filter whose index entry names at most this many traces drives the search. */
const FEW_TRACES = 2_000

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
  private readonly findTrace: StatementSync
  private readonly insertResource: StatementSync
  private readonly insertAttribute: StatementSync
  private readonly findResource: StatementSync
  private readonly resourceIds = new WeakMap<Attrs, number>()
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
    try {
      this.db = new DatabaseSync(options.path)
      this.db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA busy_timeout = 5000;
        PRAGMA cache_size = -65536;
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
        CREATE TABLE IF NOT EXISTS traces (
          trace_id TEXT PRIMARY KEY, start_us REAL NOT NULL, end_us REAL NOT NULL,
          span_count INTEGER NOT NULL, error_count INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS traces_start ON traces (start_us);
        CREATE INDEX IF NOT EXISTS traces_end ON traces (end_us);
        CREATE TABLE IF NOT EXISTS operations (
          service TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (service, kind, name)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS attributes (
          key TEXT NOT NULL, value TEXT NOT NULL, trace_id TEXT NOT NULL, PRIMARY KEY (key, value, trace_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS attributes_trace ON attributes (trace_id);
      `)
      const version = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as
        | { value: string }
        | undefined
      if (version?.value === '1') this.migrateFrom1()
      else if (version && version.value !== SCHEMA_VERSION) {
        throw new Error(`schema version ${version.value}, this viewer reads version ${SCHEMA_VERSION}`)
      }
      this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION)
    } catch (error) {
      throw new ViewerError(
        'TL_ERR_VIEWER_STORE',
        `cannot use ${options.path} as a trace store: ${(error as Error).message}`,
      )
    }
    this.insertSpan = this.db.prepare(
      `INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, service, name, kind, start_us, duration_us, error, db_system, resource_id, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.upsertTrace = this.db.prepare(
      `INSERT INTO traces (trace_id, start_us, end_us, span_count, error_count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (trace_id) DO UPDATE SET start_us = min(start_us, excluded.start_us), end_us = max(end_us, excluded.end_us),
         span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count`,
    )
    this.findTrace = this.db.prepare('SELECT 1 FROM traces WHERE trace_id = ?')
    this.insertOperation = this.db.prepare('INSERT OR IGNORE INTO operations (service, kind, name) VALUES (?, ?, ?)')
    this.insertAttribute = this.db.prepare('INSERT OR IGNORE INTO attributes (key, value, trace_id) VALUES (?, ?, ?)')
    this.insertResource = this.db.prepare('INSERT OR IGNORE INTO resources (json) VALUES (?)')
    this.findResource = this.db.prepare('SELECT id FROM resources WHERE json = ?')
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
      const traces = new Map<string, { start: number; end: number; count: number; errors: number }>()
      const indexed = new Set<string>()
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
          this.indexAttributes(span.traceId, span.attributes, indexed)
          this.indexAttributes(span.traceId, span.resource, indexed)
          const end = span.startUs + span.durationUs
          const t = traces.get(span.traceId)
          if (t) {
            if (span.startUs < t.start) t.start = span.startUs
            if (end > t.end) t.end = end
            t.count++
            if (span.error) t.errors++
          } else traces.set(span.traceId, { start: span.startUs, end, count: 1, errors: span.error ? 1 : 0 })
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
        if (this.findTrace.get(traceId) === undefined) newTraces++
        this.upsertTrace.run(traceId, t.start, t.end, t.count, t.errors)
      }
      this.db.exec('COMMIT')
      this.traceCount += newTraces
    } catch (error) {
      try {
        this.db.exec('ROLLBACK')
      } catch {}
      for (const batch of batches) batch.reject(error)
      return
    }
    batches.forEach((batch, i) => {
      this.spanCount += added[i]!
      batch.resolve(added[i]!)
    })
  }

  /** Adds a trace's `key=value` rows to the attribute index; `seen` skips the ones this transaction wrote. */
  private indexAttributes(traceId: string, attributes: Attrs, seen: Set<string>): void {
    for (const key in attributes) {
      const text = sqliteText(attributes[key])
      if (text === undefined) continue
      const row = `${traceId}\u0000${key}\u0000${text}`
      if (seen.has(row)) continue
      if (seen.size > 100_000) seen.clear()
      seen.add(row)
      this.insertAttribute.run(key, text, traceId)
    }
  }

  /** Schema 1 → 2: fills the attribute index from the stored spans, in one transaction. */
  private migrateFrom1(): void {
    this.db.exec('BEGIN')
    try {
      const insert = this.db.prepare('INSERT OR IGNORE INTO attributes (key, value, trace_id) VALUES (?, ?, ?)')
      const resources = new Map<number, Attrs>()
      const seen = new Set<string>()
      const rows = this.db
        .prepare(
          'SELECT s.trace_id AS traceId, s.body, s.resource_id AS rid, r.json FROM spans s JOIN resources r ON r.id = s.resource_id',
        )
        .iterate() as Iterable<{ traceId: string; body: string; rid: number; json: string }>
      const add = (traceId: string, attributes: Attrs | undefined) => {
        for (const key in attributes ?? {}) {
          const text = sqliteText(attributes![key])
          if (text === undefined) continue
          const row = `${traceId}\u0000${key}\u0000${text}`
          if (seen.has(row)) continue
          if (seen.size > 100_000) seen.clear()
          seen.add(row)
          insert.run(key, text, traceId)
        }
      }
      for (const r of rows) {
        let resource = resources.get(r.rid)
        if (!resource) {
          resource = JSON.parse(r.json) as Attrs
          if (resources.size > 10_000) resources.clear()
          resources.set(r.rid, resource)
        }
        add(r.traceId, (JSON.parse(r.body) as { attributes?: Attrs }).attributes)
        add(r.traceId, resource)
      }
      this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(SCHEMA_VERSION, 'schema')
      this.db.exec('COMMIT')
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
  }

  private resourceId(resource: Attrs): number {
    const cached = this.resourceIds.get(resource)
    if (cached !== undefined) return cached
    const json = JSON.stringify(resource)
    let id = this.resourceJson.get(json)
    if (id === undefined) {
      this.insertResource.run(json)
      id = Number((this.findResource.get(json) as { id: number }).id)
      if (this.resourceJson.size > 10_000) this.resourceJson.clear()
      this.resourceJson.set(json, id)
    }
    this.resourceIds.set(resource, id)
    return id
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
    // the attribute index: the filter naming the fewest traces drives the search when it names
    // few, otherwise each filter is a probe per trace; the span check below still decides
    const traceWhere: string[] = []
    const traceParams: (string | number)[] = []
    let driver: { key: string; value: string; n: number } | undefined
    for (const [key, value] of Object.entries(query.attributes ?? {})) {
      if (!indexable(value)) continue
      const n = Number(
        (
          this.db
            .prepare('SELECT count(*) AS n FROM (SELECT 1 FROM attributes WHERE key = ? AND value = ? LIMIT ?)')
            .get(key, value, FEW_TRACES + 1) as { n: number }
        ).n,
      )
      if (n === 0) return []
      if (n <= FEW_TRACES && (driver === undefined || n < driver.n)) driver = { key, value, n }
      else {
        traceWhere.push(
          'EXISTS (SELECT 1 FROM attributes a WHERE a.key = ? AND a.value = ? AND a.trace_id = t.trace_id)',
        )
        traceParams.push(key, value)
      }
    }
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
    if (where.length) {
      // walk traces newest first and probe each one's spans by trace id; the unary + keeps SQLite
      // from answering the probe through the service index instead (a scan per trace)
      traceWhere.push(
        `EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND ${where.map((w) => `+${w}`).join(' AND ')})`,
      )
      traceParams.push(...params)
    }
    // CROSS JOIN keeps the index entry the outer loop: its few traces, not every trace, are checked
    const from = driver
      ? 'attributes x CROSS JOIN traces t ON t.trace_id = x.trace_id AND x.key = ? AND x.value = ?'
      : 'traces t'
    const sql = `SELECT t.trace_id AS traceId FROM ${from} ${traceWhere.length ? `WHERE ${traceWhere.join(' AND ')}` : ''}
      ORDER BY t.start_us DESC LIMIT ?`
    const ids = this.db
      .prepare(sql)
      .all(...(driver ? [driver.key, driver.value] : []), ...traceParams, Math.max(1, query.limit)) as {
      traceId: string
    }[]
    const rowsOf = this.db.prepare(
      'SELECT trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, service, name, kind, start_us AS startUs, duration_us AS durationUs, error, db_system AS dbSystem FROM spans WHERE trace_id = ?',
    )
    return ids.map(({ traceId }) => summarizeSpans(traceId, (rowsOf.all(traceId) as unknown as RawRow[]).map(toRow)))
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
      this.db
        .prepare('DELETE FROM attributes WHERE trace_id IN (SELECT trace_id FROM traces WHERE end_us < ?)')
        .run(cutoffUs)
      const removed = this.db
        .prepare('DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM traces WHERE end_us < ?)')
        .run(cutoffUs)
      const traces = this.db.prepare('DELETE FROM traces WHERE end_us < ?').run(cutoffUs)
      // forget operations no span has any more; a full scan, so at most once an hour
      if (Number(removed.changes) > 0 && Date.now() - this.operationsRebuiltAt > 3_600_000) {
        this.operationsRebuiltAt = Date.now()
        this.db.exec('DELETE FROM operations; INSERT INTO operations SELECT DISTINCT service, kind, name FROM spans')
        this.knownOperations.clear()
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
