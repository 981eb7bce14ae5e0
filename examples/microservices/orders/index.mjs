// orders — order logic. Koa + @koa/router; orders live in PostgreSQL (pg); prices and stock
// come from catalog's GraphQL API. Two lines trace it: the middleware and instrumentPg.
import { randomInt } from 'node:crypto'
import Router from '@koa/router'
import { threadline } from '@threadline/koa'
import { instrumentPg } from '@threadline/pg'
import Koa from 'koa'
import pg from 'pg'

instrumentPg(pg)
const port = Number(process.env.PORT ?? 3001)
const catalogUrl = process.env.CATALOG_URL ?? 'http://127.0.0.1:3002'
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 })

const PRICE_ITEMS = `query PriceItems($ids: [ID!]!) {
  products(ids: $ids) { id name price stock { available } }
}`

async function priceItems(ids) {
  const response = await fetch(`${catalogUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: PRICE_ITEMS, variables: { ids: ids.map(String) } }),
  })
  const body = await response.json()
  if (body.errors) throw new Error(`catalog: ${body.errors[0].message}`)
  return new Map(body.data.products.map((p) => [Number(p.id), p]))
}

const router = new Router()

router.get('/health', (ctx) => {
  ctx.body = { ok: true }
})

router.get('/orders/:id', async (ctx) => {
  const id = Number(ctx.params.id)
  const { rows } = await pool.query('SELECT id, external_ref, customer, total_cents FROM orders WHERE id = $1', [id])
  if (rows.length === 0) {
    ctx.status = 404
    ctx.body = { error: `order ${id} not found` }
    return
  }
  const items = (await pool.query('SELECT product_id, qty FROM order_items WHERE order_id = $1', [id])).rows
  // The slow path: every seventh order also computes loyalty points the slow way.
  if (id % 7 === 0) await pool.query("SELECT pg_sleep(0.25), 'loyalty' AS points")
  const products = items.length ? await priceItems(items.map((i) => i.product_id)) : new Map()
  ctx.body = {
    ...rows[0],
    items: items.map((i) => ({
      ...i,
      name: products.get(i.product_id)?.name,
      price: products.get(i.product_id)?.price,
    })),
  }
})

router.post('/orders', async (ctx) => {
  const { customer = 'guest', items = [] } = ctx.request.body ?? {}
  if (!Array.isArray(items) || items.length === 0) {
    ctx.status = 400
    ctx.body = { error: 'an order needs items: [{ productId, qty }]' }
    return
  }
  const products = await priceItems(items.map((i) => i.productId))
  const short = items.find((i) => (products.get(Number(i.productId))?.stock.available ?? 0) < i.qty)
  if (short) {
    // Out of stock is an answer, not a failure: 409, and no error on the span.
    ctx.status = 409
    ctx.body = { error: `product ${short.productId} is out of stock` }
    return
  }
  const total = items.reduce((sum, i) => sum + Math.round(products.get(Number(i.productId)).price * 100) * i.qty, 0)
  // One order in ten reuses an existing reference: a unique violation (23505) that becomes a 500.
  const ref = randomInt(10) === 0 ? 'ORD-00001' : `ORD-${Date.now()}-${randomInt(1e6)}`
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const order = await client.query(
      'INSERT INTO orders (external_ref, customer, total_cents) VALUES ($1, $2, $3) RETURNING id',
      [ref, customer, total],
    )
    for (const item of items) {
      await client.query('INSERT INTO order_items (order_id, product_id, qty, price_cents) VALUES ($1, $2, $3, $4)', [
        order.rows[0].id,
        item.productId,
        item.qty,
        Math.round(products.get(Number(item.productId)).price * 100),
      ])
      await client.query('UPDATE stock SET available = available - $1 WHERE product_id = $2', [
        item.qty,
        item.productId,
      ])
    }
    await client.query('COMMIT')
    ctx.status = 201
    ctx.body = { id: order.rows[0].id, total_cents: total }
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  } finally {
    client.release()
  }
})

const app = new Koa()
app.use(threadline({ serviceName: 'orders', ignore: ['/health'] }))
app.use(async (ctx, next) => {
  try {
    await next()
  } catch (error) {
    // the span has recorded the exception; the client gets a plain answer
    ctx.status = error.status ?? 500
    ctx.body = { error: error.message }
  }
})
app.use(async (ctx, next) => {
  if (ctx.is('application/json')) {
    let raw = ''
    for await (const chunk of ctx.req) raw += chunk
    try {
      ctx.request.body = raw ? JSON.parse(raw) : {}
    } catch {
      ctx.throw(400, 'invalid JSON')
    }
  }
  await next()
})
app.use(router.routes()).use(router.allowedMethods())

const server = app.listen(port, '127.0.0.1', () => console.log(`orders listening on http://127.0.0.1:${port}`))
const stop = () => server.close(() => pool.end().finally(() => process.exit(0)))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.on('disconnect', stop)
