import { createServer } from 'node:net'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ClientProxyFactory, MessagePattern, RpcException, Transport } from '@nestjs/microservices'
import { SpanStatusCode } from '@threadline/core'
import { firstValueFrom } from 'rxjs'
import { expect, it } from 'vitest'
import { Traced, TracingModule } from '../src/index.js'
import { exporter, serverSpan, useTracing } from './harness.js'

useTracing()

@Controller()
class MathController {
  @MessagePattern({ cmd: 'sum' })
  sum(numbers: number[]): number {
    return this.add(numbers)
  }

  @MessagePattern({ cmd: 'fail' })
  fail(): never {
    throw new RpcException('cannot divide by zero')
  }

  @Traced()
  add(numbers: number[]): number {
    return numbers.reduce((a, b) => a + b, 0)
  }
}

@Module({ imports: [TracingModule.forRoot()], controllers: [MathController] })
class MathModule {}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

it('a microservice handler (rpc context) gets an INTERNAL span named after it and keeps working', async () => {
  const port = await freePort()
  const app = await NestFactory.createMicroservice(MathModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  })
  await app.listen()
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } })
  try {
    expect(await firstValueFrom(client.send({ cmd: 'sum' }, [1, 2, 3]))).toBe(6)
    await expect(firstValueFrom(client.send({ cmd: 'fail' }, {}))).rejects.toMatchObject({
      message: 'cannot divide by zero',
    })
  } finally {
    client.close()
    await app.close()
  }
  const sum = exporter.getByName('MathController.sum')
  expect(sum.kind).toBe(0)
  expect(sum.attributes['nestjs.context_type']).toBe('rpc')
  expect(sum.attributes['nestjs.controller']).toBe('MathController')
  expect(sum.attributes['nestjs.handler']).toBe('sum')
  const add = exporter.getByName('MathController.add')
  expect(add.parentSpanContext?.spanId).toBe(sum.spanContext().spanId)
  const fail = exporter.getByName('MathController.fail')
  expect(fail.status.code).toBe(SpanStatusCode.ERROR)
})

it('every call of a handler is a span of its own, with the same name and attributes', async () => {
  const port = await freePort()
  const app = await NestFactory.createMicroservice(MathModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  })
  await app.listen()
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } })
  try {
    expect(await firstValueFrom(client.send({ cmd: 'sum' }, [1, 2]))).toBe(3)
    await expect(firstValueFrom(client.send({ cmd: 'fail' }, {}))).rejects.toBeDefined()
    expect(await firstValueFrom(client.send({ cmd: 'sum' }, [3, 4]))).toBe(7)
  } finally {
    client.close()
    await app.close()
  }
  const spans = exporter.getFinishedSpans()
  const sums = spans.filter((s) => s.name === 'MathController.sum')
  expect(sums).toHaveLength(2)
  expect(sums[0]!.spanContext().traceId).not.toBe(sums[1]!.spanContext().traceId)
  for (const sum of sums) {
    expect(sum.attributes).toMatchObject({
      'nestjs.type': 'handler',
      'nestjs.context_type': 'rpc',
      'nestjs.controller': 'MathController',
      'nestjs.handler': 'sum',
    })
    const add = spans.filter(
      (s) => s.name === 'MathController.add' && s.parentSpanContext?.spanId === sum.spanContext().spanId,
    )
    expect(add).toHaveLength(1)
  }
  expect(spans.filter((s) => s.name === 'MathController.fail')[0]?.attributes['nestjs.handler']).toBe('fail')
})

@Controller('math')
class HybridController {
  @Get('sum')
  sumOverHttp() {
    return 3
  }

  @MessagePattern({ cmd: 'sum' })
  sum(numbers: number[]): number {
    return numbers.reduce((a, b) => a + b, 0)
  }
}

@Module({ imports: [TracingModule.forRoot()], controllers: [HybridController] })
class HybridModule {}

it('a hybrid application (inheritAppConfig) traces HTTP requests and microservice handlers', async () => {
  const port = await freePort()
  const app = await NestFactory.create(HybridModule, { logger: false, abortOnError: false })
  app.connectMicroservice(
    { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
    { inheritAppConfig: true },
  )
  await app.startAllMicroservices()
  await app.listen(0, '127.0.0.1')
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } })
  try {
    const { port: httpPort } = app.getHttpServer().address() as { port: number }
    expect(await (await fetch(`http://127.0.0.1:${httpPort}/math/sum`)).text()).toBe('3')
    expect((await serverSpan()).name).toBe('GET /math/sum')
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET /math/sum'])
    expect(await firstValueFrom(client.send({ cmd: 'sum' }, [1, 2]))).toBe(3)
  } finally {
    client.close()
    await app.close()
  }
  expect(exporter.getByName('HybridController.sum').attributes['nestjs.context_type']).toBe('rpc')
})
