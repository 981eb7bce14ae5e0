export type { OperationRed, RedBucket, RedFigures } from './analysis/red.js'
export type { Slo } from './analysis/slo.js'
export { ViewerError } from './errors.js'
export type {
  Attrs,
  AttrValue,
  SpanKindName,
  SpanRow,
  StatusCodeName,
  StoredEvent,
  StoredLink,
  StoredSpan,
} from './model.js'
export { startViewer, type Viewer, type ViewerOptions } from './server.js'
export { MemoryStore, type MemoryStoreOptions } from './store/memory.js'
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite.js'
export type { DependencyEdge, Operation, Store, StoreStats, TraceQuery, TraceSummary } from './store/store.js'
export { VERSION } from './version.js'
