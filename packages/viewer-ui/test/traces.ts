/**
 * OTLP/JSON payloads for the browser tests: a small microservice system (gateway → orders →
 * catalog → PostgreSQL), POSTed to the viewer's real ingest endpoint.
 */

export interface SpanSpec {
  id: string
  parent?: string
  service: string
  name: string
  kind?: 'internal' | 'server' | 'client'
  startMs: number
  endMs: number
  attributes?: Record<string, string | number | boolean>
  error?: string
  events?: { name: string; atMs: number; attributes?: Record<string, string> }[]
}

const KIND = { internal: 1, server: 2, client: 3 } as const
let idCounter = 0

export function newTraceId(): string {
  idCounter++
  return (Date.now().toString(16) + idCounter.toString(16).padStart(6, '0')).padStart(32, 'a').slice(-32)
}

function spanId(traceId: string, id: string): string {
  let h = 2166136261
  for (const c of `${traceId}/${id}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619)
  let h2 = 5381
  for (const c of `${id}/${traceId}`) h2 = Math.imul(h2 ^ c.charCodeAt(0), 33)
  return ((h >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0')).slice(0, 16)
}

function value(v: string | number | boolean) {
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }
}

function attrs(a: Record<string, string | number | boolean> = {}) {
  return Object.entries(a).map(([key, v]) => ({ key, value: value(v) }))
}

export function otlpPayload(traceId: string, baseMs: number, specs: SpanSpec[]): unknown {
  const byService = new Map<string, SpanSpec[]>()
  for (const s of specs) {
    const list = byService.get(s.service) ?? []
    list.push(s)
    byService.set(s.service, list)
  }
  const ns = (ms: number) => (BigInt(Math.round((baseMs + ms) * 1000)) * 1000n).toString()
  return {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: attrs({ 'service.name': service, 'telemetry.sdk.language': 'nodejs' }) },
      scopeSpans: [
        {
          scope: { name: '@threadline/test' },
          spans: spans.map((s) => ({
            traceId,
            spanId: spanId(traceId, s.id),
            ...(s.parent ? { parentSpanId: spanId(traceId, s.parent) } : {}),
            name: s.name,
            kind: KIND[s.kind ?? 'internal'],
            startTimeUnixNano: ns(s.startMs),
            endTimeUnixNano: ns(s.endMs),
            attributes: attrs(s.attributes),
            events: (s.events ?? []).map((e) => ({
              name: e.name,
              timeUnixNano: ns(e.atMs),
              attributes: attrs(e.attributes),
            })),
            status: s.error ? { code: 2, message: s.error } : { code: 0 },
          })),
        },
      ],
    })),
  }
}

export async function post(url: string, payload: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  })
  if (!response.ok) throw new Error(`ingest: HTTP ${response.status} ${await response.text()}`)
}

const pg = (summary: string, text: string) => ({
  'db.system.name': 'postgresql',
  'db.query.summary': summary,
  'db.query.text': text,
})

/** GET /orders/:id through three services; catalog resolves `order.items.*.product` one query per item (N+1). */
export function orderTrace(items: number): SpanSpec[] {
  const specs: SpanSpec[] = [
    {
      id: 'gw',
      service: 'gateway',
      name: 'GET /orders/:id',
      kind: 'server',
      startMs: 0,
      endMs: 120,
      attributes: { 'http.request.method': 'GET', 'http.route': '/orders/:id', 'http.response.status_code': 200 },
    },
    {
      id: 'gw-c',
      parent: 'gw',
      service: 'gateway',
      name: 'GET',
      kind: 'client',
      startMs: 2,
      endMs: 118,
      attributes: {
        'http.request.method': 'GET',
        'url.full': 'http://orders:3001/orders/42',
        'server.address': 'orders',
      },
    },
    {
      id: 'or',
      parent: 'gw-c',
      service: 'orders',
      name: 'GET /orders/:id',
      kind: 'server',
      startMs: 3,
      endMs: 117,
      attributes: { 'http.request.method': 'GET', 'http.route': '/orders/:id' },
    },
    {
      id: 'or-q',
      parent: 'or',
      service: 'orders',
      name: 'SELECT orders',
      kind: 'client',
      startMs: 4,
      endMs: 9,
      attributes: pg('SELECT orders', 'SELECT * FROM orders WHERE id = $1'),
    },
    {
      id: 'or-c',
      parent: 'or',
      service: 'orders',
      name: 'POST',
      kind: 'client',
      startMs: 10,
      endMs: 115,
      attributes: {
        'http.request.method': 'POST',
        'url.full': 'http://catalog:3002/graphql',
        'server.address': 'catalog',
      },
    },
    {
      id: 'ca',
      parent: 'or-c',
      service: 'catalog',
      name: 'POST /graphql',
      kind: 'server',
      startMs: 11,
      endMs: 114,
      attributes: { 'http.request.method': 'POST', 'http.route': '/graphql' },
    },
    {
      id: 'op',
      parent: 'ca',
      service: 'catalog',
      name: 'query OrderItems',
      startMs: 12,
      endMs: 113,
      attributes: {
        'graphql.operation.type': 'query',
        'graphql.operation.name': 'OrderItems',
        'graphql.document':
          'query OrderItems($id: ID!) { order(id: $id) { items { quantity product { name price } } } }',
      },
    },
    {
      id: 'r-order',
      parent: 'op',
      service: 'catalog',
      name: 'Query.order',
      startMs: 13,
      endMs: 20,
      attributes: { 'graphql.field.path': 'order' },
    },
    {
      id: 'q-items',
      parent: 'r-order',
      service: 'catalog',
      name: 'SELECT order_items',
      kind: 'client',
      startMs: 14,
      endMs: 19,
      attributes: pg('SELECT order_items', 'SELECT * FROM order_items WHERE order_id = $1'),
    },
  ]
  for (let i = 0; i < items; i++) {
    const start = 21 + i * 9
    specs.push({
      id: `r${i}`,
      parent: 'op',
      service: 'catalog',
      name: 'OrderItem.product',
      startMs: start,
      endMs: start + 8,
      attributes: { 'graphql.field.path': `order.items.${i}.product` },
    })
    specs.push({
      id: `c${i}`,
      parent: `r${i}`,
      service: 'catalog',
      name: 'pg.connect',
      kind: 'client',
      startMs: start + 0.2,
      endMs: start + 1,
      attributes: { 'db.system.name': 'postgresql' },
    })
    specs.push({
      id: `q${i}`,
      parent: `r${i}`,
      service: 'catalog',
      name: 'SELECT products',
      kind: 'client',
      startMs: start + 1,
      endMs: start + 7.5,
      attributes: pg('SELECT products', 'SELECT id, name, price FROM products WHERE id = $1'),
    })
  }
  return specs
}

/** A failing checkout: the database error in `inventory` fails its callers. */
export function failingTrace(): SpanSpec[] {
  return [
    {
      id: 'gw',
      service: 'gateway',
      name: 'POST /checkout',
      kind: 'server',
      startMs: 0,
      endMs: 60,
      error: 'HTTP 500',
      attributes: { 'http.request.method': 'POST', 'http.route': '/checkout', 'http.response.status_code': 500 },
    },
    {
      id: 'gw-c',
      parent: 'gw',
      service: 'gateway',
      name: 'POST',
      kind: 'client',
      startMs: 1,
      endMs: 58,
      error: 'HTTP 500',
      attributes: {
        'http.request.method': 'POST',
        'url.full': 'http://orders:3001/orders',
        'server.address': 'orders',
      },
    },
    {
      id: 'or',
      parent: 'gw-c',
      service: 'orders',
      name: 'POST /orders',
      kind: 'server',
      startMs: 2,
      endMs: 57,
      error: 'HTTP 500',
      attributes: { 'http.request.method': 'POST', 'http.route': '/orders' },
      events: [{ name: 'cart validated', atMs: 2.5, attributes: { 'cart.items': '3' } }],
    },
    {
      id: 'q1',
      parent: 'or',
      service: 'orders',
      name: 'BEGIN',
      kind: 'client',
      startMs: 3,
      endMs: 4,
      attributes: pg('BEGIN', 'BEGIN'),
    },
    {
      id: 'q2',
      parent: 'or',
      service: 'orders',
      name: 'UPDATE stock',
      kind: 'client',
      startMs: 5,
      endMs: 50,
      error: 'deadlock detected',
      attributes: pg('UPDATE stock', 'UPDATE stock SET quantity = quantity - $1 WHERE product_id = $2'),
      events: [
        {
          name: 'exception',
          atMs: 50,
          attributes: {
            'exception.type': 'DatabaseError',
            'exception.message': 'deadlock detected',
            'exception.stacktrace':
              'DatabaseError: deadlock detected\n    at Parser.parseErrorMessage (pg-protocol/dist/parser.js:287:98)\n    at reserveStock (orders/src/stock.ts:41:11)',
          },
        },
      ],
    },
    {
      id: 'q3',
      parent: 'or',
      service: 'orders',
      name: 'ROLLBACK',
      kind: 'client',
      startMs: 51,
      endMs: 52,
      attributes: pg('ROLLBACK', 'ROLLBACK'),
    },
  ]
}

export const XSS_NAME = '<img src=x onerror="window.__xss=1">GET /evil'
export const XSS_ATTR = '<script>window.__xss=2</script><b>bold?</b>'

export function xssTrace(): SpanSpec[] {
  return [
    {
      id: 'root',
      service: 'gateway',
      name: XSS_NAME,
      kind: 'server',
      startMs: 0,
      endMs: 10,
      attributes: { 'http.route': XSS_ATTR, 'user.comment': '"><svg onload="window.__xss=3">' },
    },
    {
      id: 'child',
      parent: 'root',
      service: '<i>svc</i>',
      name: '<iframe src="javascript:window.__xss=4">',
      kind: 'internal',
      startMs: 1,
      endMs: 9,
      attributes: { 'db.query.text': "SELECT '<script>window.__xss=5</script>'" },
    },
  ]
}

/** A wide and deep trace of `count` spans: batch → parser → catalog, the catalog's leaves querying PostgreSQL. */
export function bigTrace(count: number): SpanSpec[] {
  const specs: SpanSpec[] = [
    { id: 's0', service: 'batch', name: 'POST /import', kind: 'server', startMs: 0, endMs: 5000 },
  ]
  for (let i = 1; i < count; i++) {
    const parent = i < 50 ? 0 : Math.floor(i / 50)
    const depth = i < 50 ? 1 : i < 2500 ? 2 : 3
    const start = (i % 1000) * 4.9
    const query = depth === 3 && i % 7 === 0
    specs.push({
      id: `s${i}`,
      parent: `s${parent}`,
      service: ['batch', 'batch', 'parser', 'catalog'][depth]!,
      name: query
        ? 'SELECT products'
        : depth === 1
          ? `import chunk ${i}`
          : depth === 2
            ? 'parse row'
            : 'upsert product',
      kind: query ? 'client' : 'internal',
      startMs: start,
      endMs: start + 0.5 + (i % 10),
      attributes: query ? pg('SELECT products', 'SELECT * FROM products WHERE id = $1') : { 'batch.row': i },
    })
  }
  return specs
}
