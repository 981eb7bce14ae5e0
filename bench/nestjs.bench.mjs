// NestJS 12 (platform-express) hello world (GET /users/:id, small JSON): untraced vs Threadline
// (TracingModule.forRoot()) vs OpenTelemetry (instrumentation-http + -nestjs-core + -express).
// Run through `npm run bench` (builds the packages first: the traced server imports them from dist).
//
// Note: @opentelemetry/instrumentation-nestjs-core declares `>=4 <12` and Nest 12 is an ES module
// package, so with plain require hooks only its HTTP instrumentation produces spans here; the
// OTLP bytes column shows how much each condition exported.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { CONDITIONS, listening, runHttpBenchmark, setUpCondition } from './http-load.mjs'

const require = createRequire(import.meta.url)
const [condition, sinkUrl] = process.argv.slice(2)

if (CONDITIONS.includes(condition)) {
  await setUpCondition(condition, sinkUrl, () => {
    const { NestInstrumentation } = require('@opentelemetry/instrumentation-nestjs-core')
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express')
    return [new NestInstrumentation(), new ExpressInstrumentation()]
  })
  // required after the OpenTelemetry condition has installed its require hooks
  require('reflect-metadata')
  const { Controller, Get, Module, Param } = require('@nestjs/common')
  const { NestFactory } = require('@nestjs/core')
  const { ExpressAdapter } = require('@nestjs/platform-express')

  // the decorators, applied by hand (this file is plain JavaScript)
  class UsersController {
    findOne(id) {
      return { id, name: 'Ada Lovelace', roles: ['admin'] }
    }
  }
  const proto = UsersController.prototype
  Get(':id')(proto, 'findOne', Object.getOwnPropertyDescriptor(proto, 'findOne'))
  Param('id')(proto, 'findOne', 0)
  Controller('users')(UsersController)

  const imports = []
  if (condition === 'threadline') {
    const { TracingModule } = await import('@threadline/nestjs')
    imports.push(TracingModule.forRoot())
  }
  class AppModule {}
  Module({ imports, controllers: [UsersController] })(AppModule)

  const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false })
  await app.init()
  listening(app.getHttpServer())
} else {
  await runHttpBenchmark({
    title: 'NestJS 12 (platform-express)',
    serverScript: fileURLToPath(import.meta.url),
    path: '/users/42',
  })
}
