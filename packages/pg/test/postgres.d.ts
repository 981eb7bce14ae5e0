export interface TestPostgres {
  /** `postgres://user:password@host:port/database` */
  url: string
  host: string
  port: number
  database: string
  user: string
  password: string
  /** Stops the embedded cluster and removes its data (a no-op for `DATABASE_URL`). */
  stop(): Promise<void>
}
export interface StartPostgresOptions {
  /** Database to create and connect to (default `threadline`). */
  database?: string
}
export declare function startPostgres(options?: StartPostgresOptions): Promise<TestPostgres>
