// An Express service traced by zipkin-js: `zipkin` with CLS context (async/await aware), its express
// middleware and fetch wrapper, and its HTTP transport posting Zipkin v2 JSON to `collectorUrl`.
import express from 'express'
import { BatchRecorder, jsonEncoder, Tracer } from 'zipkin'
import CLSContext from 'zipkin-context-cls'
import { expressMiddleware } from 'zipkin-instrumentation-express'
import wrapFetch from 'zipkin-instrumentation-fetch'
import { HttpLogger } from 'zipkin-transport-http'

export interface ZipkinServiceOptions {
  serviceName: string
  /** Where spans go: `…/api/v2/spans` of a Zipkin-compatible collector. */
  spansUrl: string
  traceId128Bit: boolean
  /** What `/start` (a zipkin-js root) and `/mid` (continues the caller's trace) call next. */
  next: (path: '/start' | '/mid', req: express.Request) => string
  onMid?: (req: express.Request) => void
}

export function zipkinService(options: ZipkinServiceOptions): express.Express {
  const { serviceName } = options
  const tracer = new Tracer({
    ctxImpl: new CLSContext('zipkin', true),
    recorder: new BatchRecorder({
      logger: new HttpLogger({ endpoint: options.spansUrl, jsonEncoder: jsonEncoder.JSON_V2, httpInterval: 20 }),
    }),
    localServiceName: serviceName,
    traceId128Bit: options.traceId128Bit,
  })
  const zipkinFetch = wrapFetch(fetch, { tracer, remoteServiceName: 'threadline' })
  const app = express()
  const middlewareOptions = { tracer, serviceName } // the typings omit serviceName, which the middleware reads
  app.use(expressMiddleware(middlewareOptions))
  app.get(['/start', '/mid'], async (req, res) => {
    const path = req.path as '/start' | '/mid'
    if (path === '/mid') options.onMid?.(req)
    const r = await zipkinFetch(options.next(path, req))
    res.status(r.status).send(await r.text())
  })
  return app
}
