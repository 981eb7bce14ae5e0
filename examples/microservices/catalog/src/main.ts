// catalog — products, prices and stock. NestJS (platform-express) serving a GraphQL API
// (@nestjs/graphql, schema-first, with a small GraphQL Yoga driver) over PostgreSQL. Traced by
// TracingModule, useThreadline() (in the driver), and instrumentPg.
import 'reflect-metadata'
import { Controller, Get, Inject, Injectable, Module, Param } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { type GqlModuleOptions, GraphQLModule } from '@nestjs/graphql'
import { Traced, TracingModule } from '@threadline/nestjs'
import { instrumentPg } from '@threadline/pg'
import pg from 'pg'
import { POOL, ProductResolver, QueryResolver, typeDefs } from './graphql.js'
import { YogaDriver } from './yoga-driver.js'

instrumentPg(pg)

@Injectable()
@Traced()
class ProductsService {
  constructor(@Inject(POOL) private readonly pool: pg.Pool) {}

  async findOne(id: number) {
    const { rows } = await this.pool.query('SELECT id, sku, name, price_cents FROM products WHERE id = $1', [id])
    return rows[0] ?? null
  }
}

@Controller()
class CatalogController {
  constructor(@Inject(ProductsService) private readonly products: ProductsService) {}

  @Get('health')
  health() {
    return { ok: true }
  }

  @Get('products/:id')
  product(@Param('id') id: string) {
    return this.products.findOne(Number(id))
  }
}

@Module({
  imports: [
    TracingModule.forRoot({ serviceName: 'catalog', ignore: ['/health'] }),
    // POST /graphql, served by Yoga (which reads the body itself: Nest's body parser is off)
    GraphQLModule.forRoot<GqlModuleOptions>({ driver: YogaDriver, typeDefs, path: '/graphql' }),
  ],
  controllers: [CatalogController],
  providers: [
    ProductsService,
    QueryResolver,
    ProductResolver,
    { provide: POOL, useFactory: () => new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 }) },
  ],
})
class AppModule {}

const port = Number(process.env.PORT ?? 3002)
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], bodyParser: false })
app.enableShutdownHooks()
await app.listen(port, '127.0.0.1')
console.log(`catalog listening on http://127.0.0.1:${port}`)
const stop = () => app.close().finally(() => process.exit(0))
process.on('disconnect', stop)
