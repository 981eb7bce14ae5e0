// catalog — products, prices and stock. NestJS (platform-express) serving a GraphQL API
// (GraphQL Yoga on a Nest route) over PostgreSQL. Traced by TracingModule, useThreadline(),
// and instrumentPg.
import 'reflect-metadata'
import { All, Controller, Get, Inject, Injectable, Module, Param, Req, Res } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { Traced, TracingModule } from '@threadline/nestjs'
import { instrumentPg } from '@threadline/pg'
import type { Request, Response } from 'express'
import pg from 'pg'
import { createGraphql } from './graphql.js'

instrumentPg(pg)
const POOL = 'PG_POOL'

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
  private readonly yoga: ReturnType<typeof createGraphql>

  constructor(
    @Inject(POOL) pool: pg.Pool,
    @Inject(ProductsService) private readonly products: ProductsService,
  ) {
    this.yoga = createGraphql(pool)
  }

  @Get('health')
  health() {
    return { ok: true }
  }

  @Get('products/:id')
  product(@Param('id') id: string) {
    return this.products.findOne(Number(id))
  }

  @All('graphql')
  graphql(@Req() req: Request, @Res() res: Response) {
    // Yoga's Node request listener reads req and writes res (Nest's body parser is off for it)
    return this.yoga.requestListener(req, res)
  }
}

@Module({
  imports: [TracingModule.forRoot({ serviceName: 'catalog', ignore: ['/health'] })],
  controllers: [CatalogController],
  providers: [
    ProductsService,
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
