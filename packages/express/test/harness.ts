// The adapters share one test harness with core's HTTP server lifecycle: see core/test/http-harness.ts.
export * from '../../core/test/http-harness.js'
