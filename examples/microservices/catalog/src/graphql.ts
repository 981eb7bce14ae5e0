import { Inject } from '@nestjs/common'
import { Args, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql'
import type pg from 'pg'

export const POOL = 'PG_POOL'

/** The catalog's GraphQL schema (schema-first: Nest binds the resolvers below to it). */
export const typeDefs = /* GraphQL */ `
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

const product = (row: ProductRow) => ({ ...row, price: row.price_cents / 100 })

@Resolver('Query')
export class QueryResolver {
  constructor(@Inject(POOL) private readonly pool: pg.Pool) {}

  @Query('products')
  async products(@Args('ids') ids: string[]) {
    const { rows } = await this.pool.query<ProductRow>(
      'SELECT id, sku, name, price_cents FROM products WHERE id = ANY($1::int[]) ORDER BY id',
      [ids.map(Number)],
    )
    return rows.map(product)
  }

  @Query('search')
  async search(@Args('q') q: string) {
    const { rows } = await this.pool.query<ProductRow>(
      'SELECT id, sku, name, price_cents FROM products WHERE name ILIKE $1 ORDER BY name LIMIT 20',
      [`%${q}%`],
    )
    return rows.map(product)
  }
}

@Resolver('Product')
export class ProductResolver {
  constructor(@Inject(POOL) private readonly pool: pg.Pool) {}

  // The N+1 on purpose: one stock query per product instead of one for the list.
  @ResolveField('stock')
  async stock(@Parent() parent: ProductRow) {
    const { rows } = await this.pool.query<{ available: number }>('SELECT available FROM stock WHERE product_id = $1', [
      parent.id,
    ])
    return rows[0] ?? { available: 0 }
  }
}
