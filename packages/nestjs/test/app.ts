// A small Nest application with every part of the request pipeline, used by the tests.
import {
  type ArgumentsHost,
  BadRequestException,
  type CallHandler,
  type CanActivate,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  HttpException,
  Inject,
  Injectable,
  type NestInterceptor,
  NotFoundException,
  Param,
  ParseIntPipe,
  type PipeTransform,
  Post,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  Version,
} from '@nestjs/common'
import { type Observable, of } from 'rxjs'
import { delay, map } from 'rxjs/operators'
import { Traced, TracingService } from '../src/index.js'

@Injectable()
@Traced()
export class CatsService {
  findAll(): string[] {
    return ['Tom', 'Felix']
  }

  async findOne(id: number): Promise<{ id: number; name: string }> {
    await new Promise((resolve) => setImmediate(resolve))
    if (id === 404) throw new NotFoundException(`cat ${id} not found`)
    if (id === 500) throw new Error('the cat database is down')
    return { id, name: 'Tom' }
  }

  watch(): Observable<string> {
    return of('meow').pipe(delay(1))
  }

  @Traced('cats.count')
  count(): number {
    return 2
  }
}

@Injectable()
export class AuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
    if (req.headers['x-explode'] === 'guard') throw new Error('the guard exploded')
    return req.headers['x-token'] === 'secret'
  }
}

@Injectable()
export class AsyncGuard implements CanActivate {
  async canActivate(): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve))
    return true
  }
}

/** Answers with an Observable, as some guards do (e.g. one that asks another service). */
@Injectable()
export class ObservableGuard implements CanActivate {
  canActivate(context: ExecutionContext): Observable<boolean> {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
    return of(req.headers['x-token'] === 'secret').pipe(delay(1))
  }
}

@Injectable()
export class ExplodingPipe implements PipeTransform {
  transform(value: unknown): unknown {
    if (value === 'boom') throw new Error('the pipe exploded')
    return value
  }
}

@Injectable()
export class WrapInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
    if (req.headers['x-explode'] === 'interceptor') throw new Error('the interceptor exploded')
    return next.handle().pipe(map((data) => ({ data })))
  }
}

export class TeapotError extends Error {}

@Catch(TeapotError)
export class TeapotFilter implements ExceptionFilter {
  catch(_exception: TeapotError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<{ status?(n: number): unknown; code?(n: number): unknown }>()
    // Express and Fastify replies answer differently
    const reply = res as unknown as {
      status?: (n: number) => { json(b: unknown): void }
      code: (n: number) => { send(b: unknown): void }
    }
    if (typeof (res as { code?: unknown }).code === 'function' && !('json' in (res as object))) {
      reply.code(503).send({ teapot: true })
    } else reply.status?.(503).json({ teapot: true })
  }
}

@Controller('cats')
export class CatsController {
  constructor(
    @Inject(CatsService) private readonly cats: CatsService,
    @Inject(TracingService) private readonly tracing: TracingService,
  ) {}

  @Get()
  findAll(): string[] {
    this.tracing.setAttributes({ 'app.cats': 2 })
    this.cats.count()
    return this.cats.findAll()
  }

  @Get('watch')
  watch(): Observable<string> {
    return this.cats.watch()
  }

  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number) {
    return this.cats.findOne(id)
  }

  @Get('owners/:owner/cats/:name')
  byOwner(@Param('owner') owner: string, @Param('name') name: string) {
    return { owner, name }
  }

  @Post()
  create() {
    return { created: true }
  }
}

// @Traced() on a controller: Nest's route metadata must survive the wrapping
@Traced()
@Controller({ path: 'dogs', version: '2' })
export class DogsController {
  @Get(':id')
  findOne(@Param('id') id: string) {
    return { id }
  }

  @Get()
  @Version('3')
  list() {
    return []
  }
}

@Controller('secure')
@UseGuards(AuthGuard)
export class SecureController {
  @Get('data')
  data() {
    return { secret: 42 }
  }

  @Get('slow/:id')
  @UseGuards(AsyncGuard)
  slow(@Param('id') id: string) {
    return { id }
  }
}

@Controller('pipeline')
export class PipelineController {
  @Get('pipe/:value')
  @UsePipes(ExplodingPipe)
  pipe(@Param('value') value: string) {
    return { value }
  }

  @Get('observed')
  @UseGuards(ObservableGuard)
  observed() {
    return { observed: true }
  }

  @Get('intercepted')
  @UseInterceptors(WrapInterceptor)
  intercepted() {
    return 'hello'
  }

  @Get('handler-error')
  handlerError() {
    throw new Error('the handler exploded')
  }

  @Get('http-500')
  http500() {
    throw new HttpException('upstream broke', 502)
  }

  @Get('bad')
  bad() {
    throw new BadRequestException('no')
  }

  @Get('filtered')
  @UseFilters(TeapotFilter)
  filtered() {
    throw new TeapotError('short and stout')
  }
}
