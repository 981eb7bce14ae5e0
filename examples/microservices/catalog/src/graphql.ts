import { useThreadline } from '@threadline/graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import type pg from 'pg'

const typeDefs = /* GraphQL */ `
  type Stock {
    available: Int!
  }
  type Product {
    id: ID!
    sku: String!
    name: String!
    price: Float!
    stock: Stock!
  }
  type Query {
    products(ids: [ID!]!): [Product!]!
    search(q: String!): [Product!]!
  }
`

interface ProductRow {
  id: number
  sku: string
  name: string
  price_cents: number
}

/** The catalog's GraphQL API; `useThreadline()` traces operations and resolvers. */
export function createGraphql(pool: pg.Pool) {
  const product = (row: ProductRow) => ({ ...row, price: row.price_cents / 100 })
  const schema = createSchema({
    typeDefs,
    resolvers: {
      Query: {
        products: async (_: unknown, { ids }: { ids: string[] }) => {
          const { rows } = await pool.query<ProductRow>(
            'SELECT id, sku, name, price_cents FROM products WHERE id = ANY($1::int[]) ORDER BY id',
            [ids.map(Number)],
          )
          return rows.map(product)
        },
        search: async (_: unknown, { q }: { q: string }) => {
          const { rows } = await pool.query<ProductRow>(
            'SELECT id, sku, name, price_cents FROM products WHERE name ILIKE $1 ORDER BY name LIMIT 20',
            [`%${q}%`],
          )
          return rows.map(product)
        },
      },
      Product: {
        // The N+1 on purpose: one stock query per product instead of one for the list.
        stock: async (parent: ProductRow) => {
          const { rows } = await pool.query<{ available: number }>(
            'SELECT available FROM stock WHERE product_id = $1',
            [parent.id],
          )
          return rows[0] ?? { available: 0 }
        },
      },
    },
  })
  return createYoga({ schema, plugins: [useThreadline()], logging: false, graphiql: false })
}
