import { AbstractGraphQLDriver, type GqlModuleOptions } from '@nestjs/graphql'
import { serverRequestFrom } from '@threadline/core'
import { useThreadline } from '@threadline/graphql'
import type { Express } from 'express'
import { createYoga, type YogaServerInstance } from 'graphql-yoga'

/**
 * A small `@nestjs/graphql` driver serving the schema Nest builds with GraphQL Yoga, as an Express
 * route at the module's `path`. Yoga reads the request body itself: the app is created with
 * `bodyParser: false`. `useThreadline()` traces operations and resolvers.
 */
export class YogaDriver extends AbstractGraphQLDriver<GqlModuleOptions> {
  private yoga: YogaServerInstance<object, object> | undefined

  async start(options: GqlModuleOptions): Promise<void> {
    const path = this.getNormalizedPath(options)
    const yoga = createYoga({
      schema: options.schema,
      plugins: [useThreadline()],
      graphqlEndpoint: path,
      logging: false,
      graphiql: false,
    })
    this.httpAdapterHost.httpAdapter.getInstance<Express>().all(path, (req, res) => {
      // a route outside Nest's router: TracingModule names the span of the routes Nest registers,
      // so this one names its own (`POST /graphql`, then `query PriceItems` from useThreadline())
      serverRequestFrom()?.setRoute(path)
      return yoga(req, res)
    })
    this.yoga = yoga
  }

  async stop(): Promise<void> {
    await this.yoga?.dispose()
  }
}
