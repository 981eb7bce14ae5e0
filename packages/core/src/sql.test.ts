import { describe, expect, it } from 'vitest'
import { analyzeSql, sanitizeSql, sqlInfo } from './sql.js'

// [statement, sanitized text, summary, operation, collection]
const statements: Array<[string, string, string | undefined, string | undefined, string | undefined]> = [
  ['SELECT 1', 'SELECT ?', 'SELECT', 'SELECT', undefined],
  [
    "SELECT * FROM users WHERE email = 'ann@example.com' AND age > 42",
    'SELECT * FROM users WHERE email = ? AND age > ?',
    'SELECT users',
    'SELECT',
    'users',
  ],
  ['select id from Users where id = $1', 'select id from Users where id = $1', 'select Users', 'select', 'Users'],
  [
    'INSERT INTO orders (user_id, total, paid) VALUES ($1, 19.99, true) RETURNING id',
    'INSERT INTO orders (user_id, total, paid) VALUES ($1, ?, ?) RETURNING id',
    'INSERT orders',
    'INSERT',
    'orders',
  ],
  [
    "UPDATE public.accounts SET balance = balance - 100.50, note = E'it\\'s paid' WHERE id = 7",
    'UPDATE public.accounts SET balance = balance - ?, note = ? WHERE id = ?',
    'UPDATE public.accounts',
    'UPDATE',
    'public.accounts',
  ],
  [
    'DELETE FROM sessions WHERE expires_at < now()',
    'DELETE FROM sessions WHERE expires_at < now()',
    'DELETE sessions',
    'DELETE',
    'sessions',
  ],
  [
    'SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id IN (1, 2, 3)',
    'SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id IN (?)',
    'SELECT users orders',
    'SELECT',
    undefined,
  ],
  [
    'SELECT * FROM songs, artists WHERE songs.artist_id = artists.id',
    'SELECT * FROM songs, artists WHERE songs.artist_id = artists.id',
    'SELECT songs artists',
    'SELECT',
    undefined,
  ],
  [
    'INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders WHERE order_id = $1',
    'INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders WHERE order_id = $1',
    'INSERT shipping_details SELECT orders',
    undefined,
    undefined,
  ],
  [
    'SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id) t',
    'SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id) t',
    'SELECT SELECT orders customers',
    'SELECT',
    undefined,
  ],
  [
    "SELECT $$it's a $1 body$$, $fn$ nested $$ $fn$, 'a''b' FROM t -- trailing 'secret'\n",
    'SELECT ?, ?, ? FROM t',
    'SELECT t',
    'SELECT',
    't',
  ],
  [
    "/* app='shop' */ SELECT name FROM products WHERE sku IN ('a', 'b') /* nested /* comment */ */ LIMIT 10",
    'SELECT name FROM products WHERE sku IN (?)   LIMIT ?',
    'SELECT products',
    'SELECT',
    'products',
  ],
  [
    'INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO UPDATE SET seen = now()',
    'INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO UPDATE SET seen = now()',
    'INSERT users',
    'INSERT',
    'users',
  ],
  [
    'SELECT * FROM jobs WHERE state = $1 FOR UPDATE SKIP LOCKED',
    'SELECT * FROM jobs WHERE state = $1 FOR UPDATE SKIP LOCKED',
    'SELECT jobs',
    'SELECT',
    'jobs',
  ],
  [
    'WITH recent AS (SELECT * FROM orders WHERE created_at > $1) SELECT count(*) FROM recent',
    'WITH recent AS (SELECT * FROM orders WHERE created_at > $1) SELECT count(*) FROM recent',
    'SELECT orders SELECT recent',
    'SELECT',
    undefined,
  ],
  [
    'CREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, email text UNIQUE, created_at timestamptz DEFAULT now())',
    'CREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, email text UNIQUE, created_at timestamptz DEFAULT now())',
    'CREATE TABLE users',
    'CREATE TABLE',
    'users',
  ],
  ['DROP TABLE IF EXISTS a, b', 'DROP TABLE IF EXISTS a, b', 'DROP TABLE a b', 'DROP TABLE', undefined],
  ['TRUNCATE TABLE logs', 'TRUNCATE TABLE logs', 'TRUNCATE logs', 'TRUNCATE', 'logs'],
  ['BEGIN', 'BEGIN', 'BEGIN', 'BEGIN', undefined],
  ["SET statement_timeout = '5s'", 'SET statement_timeout = ?', 'SET', 'SET', undefined],
  [
    'SELECT * FROM generate_series(1, 10) AS g',
    'SELECT * FROM generate_series(?, ?) AS g',
    'SELECT',
    'SELECT',
    undefined,
  ],
  [
    'MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty',
    'MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty',
    'MERGE stock deliveries',
    'MERGE',
    undefined,
  ],
  [
    `SELECT x'1F', b'101', 0x1F, 1e-3, .5, 1_000, U&'d\\0061t' FROM "Order Items"`,
    'SELECT ?, ?, ?, ?, ?, ?, ? FROM "Order Items"',
    'SELECT "Order Items"',
    'SELECT',
    '"Order Items"',
  ],
  ["SELECT DATE '2024-01-01' + INTERVAL '1 day'", 'SELECT DATE ? + INTERVAL ?', 'SELECT', 'SELECT', undefined],
  ['SELECT ARRAY[1,2], t1.c2 FROM t1', 'SELECT ARRAY[?,?], t1.c2 FROM t1', 'SELECT t1', 'SELECT', 't1'],
  ['BEGIN; SELECT 1; COMMIT', 'BEGIN; SELECT ?; COMMIT', 'BEGIN SELECT COMMIT', undefined, undefined],
  // what ORMs send
  [
    'SELECT "public"."User"."id", "public"."User"."email" FROM "public"."User" WHERE "public"."User"."email" = $1 LIMIT $2 OFFSET $3',
    'SELECT "public"."User"."id", "public"."User"."email" FROM "public"."User" WHERE "public"."User"."email" = $1 LIMIT $2 OFFSET $3',
    'SELECT "public"."User"',
    'SELECT',
    '"public"."User"',
  ],
  [
    'INSERT INTO "Users" ("id","email","createdAt") VALUES (DEFAULT,$1,$2) RETURNING "id","email","createdAt";',
    'INSERT INTO "Users" ("id","email","createdAt") VALUES (DEFAULT,$1,$2) RETURNING "id","email","createdAt";',
    'INSERT "Users"',
    'INSERT',
    '"Users"',
  ],
  [
    'select "users".* from "users" inner join "teams" on "teams"."id" = "users"."team_id" where "users"."id" in ($1, $2, $3)',
    'select "users".* from "users" inner join "teams" on "teams"."id" = "users"."team_id" where "users"."id" in ($1, $2, $3)',
    'select "users" "teams"',
    'select',
    undefined,
  ],
  // comment markers and quotes inside literals are literal text
  [
    "SELECT * FROM notes WHERE author = 'O''Brien' AND body = 'a -- b /* c */' AND tag = \"x\"\"y\"",
    'SELECT * FROM notes WHERE author = ? AND body = ? AND tag = "x""y"',
    'SELECT notes',
    'SELECT',
    'notes',
  ],
]

describe('analyzeSql', () => {
  it.each(statements)('%s', (sql, text, summary, operation, collection) => {
    expect(analyzeSql(sql)).toEqual({ text, summary, operation, collection })
  })

  it('keeps IN lists of parameters and sub-selects as they are', () => {
    expect(sanitizeSql('SELECT 1 FROM t WHERE a IN ($1, $2) AND b IN (SELECT c FROM d)')).toBe(
      'SELECT ? FROM t WHERE a IN ($1, $2) AND b IN (SELECT c FROM d)',
    )
  })

  it('never throws, whatever it is given', () => {
    const garbage = [
      '',
      "'",
      '$$',
      '$tag$ never closed',
      "E'\\",
      '/* /* unclosed',
      '"',
      ')))(((',
      'IN (',
      'FROM',
      ';;;;',
      '\u0000\uffff\ud800',
      'x'.repeat(10_000),
      "'".repeat(5001),
    ]
    for (const sql of garbage) expect(() => analyzeSql(sql)).not.toThrow()
    expect(analyzeSql(undefined as unknown as string).text).toBe('undefined')
  })

  it('never leaks an unterminated literal', () => {
    expect(sanitizeSql("SELECT 'secret")).toBe('SELECT ?')
    expect(sanitizeSql('SELECT $x$ secret')).toBe('SELECT ?')
  })

  it('caps the text and the summary', () => {
    const long = `SELECT ${'a, '.repeat(5000)}b FROM t`
    expect(analyzeSql(long).text.length).toBeLessThanOrEqual(4096)
    expect(analyzeSql(long, { maxLength: 100 }).text.length).toBeLessThanOrEqual(100)
    const many = Array.from({ length: 200 }, (_, k) => `SELECT * FROM table_${k}`).join(' UNION ALL ')
    expect((analyzeSql(many).summary ?? '').length).toBeLessThanOrEqual(255)
  })

  it('runs in linear time on pathological input', () => {
    // 200 KB of nested comments and IN lists: a quadratic scan would take seconds
    const input = `${'IN (1, '.repeat(20_000)}/*${'/*'.repeat(10_000)}`
    const info = analyzeSql(input)
    expect(info.text.length).toBeLessThanOrEqual(4096)
  })

  it('caches by statement text', () => {
    expect(sqlInfo('SELECT * FROM users WHERE id = $1')).toBe(sqlInfo('SELECT * FROM users WHERE id = $1'))
  })

  it('the cache is bounded and keeps the statements in use', () => {
    const inUse = sqlInfo('SELECT * FROM carts WHERE id = $1')
    const once = sqlInfo('SELECT * FROM coupons WHERE code = $1')
    // 5000 distinct statements pass through (ids inlined by a careless caller); the app's own
    // statement keeps being used meanwhile, the other one is not
    for (let k = 0; k < 5000; k++) {
      sqlInfo(`SELECT * FROM carts WHERE id = ${k}`)
      if (k % 100 === 0) expect(sqlInfo('SELECT * FROM carts WHERE id = $1')).toBe(inUse)
    }
    expect(sqlInfo('SELECT * FROM carts WHERE id = $1')).toBe(inUse)
    const again = sqlInfo('SELECT * FROM coupons WHERE code = $1')
    expect(again).not.toBe(once)
    expect(again).toEqual(once)
  })

  it('matches keywords in any ASCII case, and only whole keywords', () => {
    for (const select of ['select', 'SELECT', 'Select', 'sELECT', 'SeLeCt']) {
      expect(analyzeSql(`${select} a FROM t`).summary).toBe(`${select} t`)
    }
    // prefixes, extensions and non-ASCII look-alikes of keywords are names
    expect(analyzeSql('selec a FROM t').operation).toBe('selec')
    expect(analyzeSql('SELECT a FROM selectx').collection).toBe('selectx')
    expect(analyzeSql('SELECT a FROM ſelect').collection).toBe('ſelect')
    expect(analyzeSql('SELECT a FROM fromage, t').summary).toBe('SELECT fromage t')
  })
})
