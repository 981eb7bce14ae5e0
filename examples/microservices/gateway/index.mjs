// gateway — the public API. Express; traced by one line; calls the other services with fetch
// (Threadline injects the trace headers into every outgoing fetch).
import { threadline } from '@threadline/express'
import express from 'express'

const port = Number(process.env.PORT ?? 3000)
const ordersUrl = process.env.ORDERS_URL ?? 'http://127.0.0.1:3001'
const catalogUrl = process.env.CATALOG_URL ?? 'http://127.0.0.1:3002'

const app = express()
app.use(threadline({ serviceName: 'gateway', ignore: ['/health'] }))
app.use(express.json())

app.get('/health', (_req, res) => res.json({ ok: true }))

app.get('/orders/:id', async (req, res) => {
  const upstream = await fetch(`${ordersUrl}/orders/${encodeURIComponent(req.params.id)}`)
  res.status(upstream.status).json(await upstream.json())
})

app.post('/orders', async (req, res) => {
  const upstream = await fetch(`${ordersUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req.body ?? {}),
  })
  res.status(upstream.status).json(await upstream.json())
})

app.get('/catalog/search', async (req, res) => {
  const upstream = await fetch(`${catalogUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'query SearchProducts($q: String!) { search(q: $q) { id name price } }',
      variables: { q: String(req.query.q ?? '') },
    }),
  })
  const body = await upstream.json()
  res.status(body.errors ? 502 : 200).json(body.errors ? { error: body.errors[0].message } : body.data.search)
})

// Express 5 passes rejected promises here; the span already has the exception.
app.use((error, _req, res, _next) => {
  res.status(502).json({ error: error.message })
})

const server = app.listen(port, '127.0.0.1', () => console.log(`gateway listening on http://127.0.0.1:${port}`))
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// started by the demo runner: leave with it, never as an orphan
process.on('disconnect', stop)
