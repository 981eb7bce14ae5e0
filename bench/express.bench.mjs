// Express 5 hello world (GET /users/:id, small JSON): untraced vs Threadline vs OpenTelemetry.
// Run through `npm run bench` (builds the packages first: the traced server imports them from dist).
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { CONDITIONS, listening, runHttpBenchmark, setUpCondition } from './http-load.mjs'

const require = createRequire(import.meta.url)
const [condition, sinkUrl] = process.argv.slice(2)

if (CONDITIONS.includes(condition)) {
  await setUpCondition(condition, sinkUrl, () => {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express')
    return new ExpressInstrumentation()
  })
  // required after the OpenTelemetry condition has installed its require hooks
  const express = require('express')
  const app = express()
  if (condition === 'threadline') {
    const { threadline } = await import('@threadline/express')
    app.use(threadline())
  }
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'Ada Lovelace', roles: ['admin'] })
  })
  listening(require('node:http').createServer(app))
} else {
  await runHttpBenchmark({ title: 'Express 5', serverScript: fileURLToPath(import.meta.url), path: '/users/42' })
}
