// Koa 3 + @koa/router hello world (GET /users/:id, small JSON): untraced vs Threadline vs OpenTelemetry.
// Run through `npm run bench` (builds the packages first: the traced server imports them from dist).
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { CONDITIONS, listening, runHttpBenchmark, setUpCondition } from './http-load.mjs'

const require = createRequire(import.meta.url)
const [condition, sinkUrl] = process.argv.slice(2)

if (CONDITIONS.includes(condition)) {
  await setUpCondition(condition, sinkUrl, () => {
    const { KoaInstrumentation } = require('@opentelemetry/instrumentation-koa')
    return new KoaInstrumentation()
  })
  // required after the OpenTelemetry condition has installed its require hooks
  const Koa = require('koa')
  const Router = require('@koa/router')
  const app = new Koa()
  if (condition === 'threadline') {
    const { threadline } = await import('@threadline/koa')
    app.use(threadline())
  }
  const router = new Router()
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, name: 'Ada Lovelace', roles: ['admin'] }
  })
  app.use(router.routes())
  listening(require('node:http').createServer(app.callback()))
} else {
  await runHttpBenchmark({ title: 'Koa 3', serverScript: fileURLToPath(import.meta.url), path: '/users/42' })
}
