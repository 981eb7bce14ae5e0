export {
  type InstrumentPgOptions,
  instrumentPg,
  type PgConnectionContext,
  type PgConnectionInfo,
  type PgModule,
  type PgPoolContext,
  type PgQueryContext,
} from './instrument.js'
