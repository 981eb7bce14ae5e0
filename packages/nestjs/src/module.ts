import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type DynamicModule,
  Global,
  Inject,
  type InjectionToken,
  Logger,
  type MiddlewareConsumer,
  Module,
  type ModuleMetadata,
  type NestInterceptor,
  type NestModule,
  type OnModuleInit,
  type OptionalFactoryDependency,
} from '@nestjs/common'
import { APP_INTERCEPTOR, ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core'
import { type CaptureHeaders, ensureStarted, type IgnorePaths, type Span } from '@threadline/core'
import { TracingInterceptor } from './interceptor.js'
import { instrumentEnhancer } from './pipeline.js'
import { serverSpanMiddleware, TracingExceptionFilter, TracingGuard } from './request.js'
import { TracingService } from './service.js'
import { tracer } from './tracer.js'

export interface TracingModuleOptions {
  /** `service.name` used if this module starts the SDK (else OTEL_SERVICE_NAME). */
  serviceName?: string
  /** Requests left untraced: exact paths, patterns, or a predicate (no span, no cost). */
  ignore?: IgnorePaths | ((req: IncomingMessage) => boolean)
  /** Allow-listed headers recorded as `http.request.header.*` / `http.response.header.*`. */
  captureHeaders?: CaptureHeaders
  /** Adds attributes when the request starts (sampled requests only). */
  requestHook?: (span: Span, req: IncomingMessage) => void
  /** Adds attributes just before the server span ends. */
  responseHook?: (span: Span, req: IncomingMessage, res: ServerResponse) => void
  /** An INTERNAL span for each guard, pipe, interceptor and exception filter call. Default false. */
  pipelineSpans?: boolean
}

export interface TracingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => TracingModuleOptions | Promise<TracingModuleOptions>
  inject?: Array<InjectionToken | OptionalFactoryDependency>
}

const TRACING_OPTIONS = Symbol.for('threadline.nestjs.options')
const tracedAdapters = new WeakSet<object>()

/**
 * Traces a Nest application: a SERVER span per HTTP request (on Express or Fastify), named by its
 * route template, with its guards, pipes, interceptors and filters inside it, plus
 * `TracingService` for every module. `@Module({ imports: [TracingModule.forRoot({ serviceName })] })`.
 */
@Global()
@Module({})
export class TracingModule implements NestModule, OnModuleInit {
  private setAside: { index: number; interceptor: NestInterceptor } | undefined

  constructor(
    @Inject(TRACING_OPTIONS) private readonly options: TracingModuleOptions,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ModulesContainer) private readonly modules: ModulesContainer,
    @Inject(ApplicationConfig) private readonly config: ApplicationConfig,
  ) {
    ensureStarted({ serviceName: options.serviceName })
  }

  static forRoot(options: TracingModuleOptions = {}): DynamicModule {
    return tracingModule([{ provide: TRACING_OPTIONS, useValue: options }])
  }

  /** Options from other providers, e.g. `{ imports: [ConfigModule], inject: [ConfigService], useFactory }`. */
  static forRootAsync(options: TracingModuleAsyncOptions): DynamicModule {
    return tracingModule(
      [{ provide: TRACING_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }],
      options.imports,
    )
  }

  /**
   * Runs while the HTTP application initialises, after every provider exists and before routes
   * are registered: the moment to put the middleware in front and wrap the enhancers.
   */
  configure(_consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost?.httpAdapter
    // imported twice with different options, the module is two modules: the first one traces
    if (!adapter || tracedAdapters.has(adapter)) return
    tracedAdapters.add(adapter)
    const instance = adapter.getInstance<{
      enabled?(name: string): boolean
      initialConfig?: { trustProxy?: unknown }
    }>()
    const trustProxy = instance.enabled?.('trust proxy') === true || !!instance.initialConfig?.trustProxy
    const middleware = serverSpanMiddleware(
      { tracer, captureHeaders: this.options.captureHeaders, trustProxy },
      this.options,
    )
    adapter.use(middleware)
    // HTTP routes get a guard (naming) and a filter (errors) instead of the interceptor: Nest
    // skips its Observable machinery on routes without interceptors, a large share of a request.
    // It is put back in onModuleInit(), after the routes, for microservices sharing this config.
    // (Imported twice, the module registered it twice: one is kept.)
    const interceptors = this.config.getGlobalInterceptors()
    const ours = interceptors.findIndex((i) => i instanceof TracingInterceptor)
    if (ours >= 0) this.setAside = { index: ours, interceptor: interceptors[ours] as NestInterceptor }
    for (let i = interceptors.length - 1; i >= 0; i--) {
      if (interceptors[i] instanceof TracingInterceptor) interceptors.splice(i, 1)
    }
    this.config.getGlobalGuards().unshift(new TracingGuard())
    this.config.getGlobalFilters().unshift(new TracingExceptionFilter(adapter))
    try {
      this.instrumentEnhancers()
    } catch (error) {
      // Nest internals we read may change between majors: lose the pipeline view, never the app.
      new Logger('TracingModule').warn(
        `TL_ERR_NEST_ENHANCERS: guards and filters are not instrumented (${error instanceof Error ? error.message : String(error)})`,
      )
    }
  }

  /** Nest calls this after registering the HTTP routes (and before microservices start). */
  onModuleInit(): void {
    if (!this.setAside) return
    this.config.getGlobalInterceptors().splice(this.setAside.index, 0, this.setAside.interceptor)
    this.setAside = undefined
  }

  private instrumentEnhancers(): void {
    const spans = this.options.pipelineSpans === true
    const seen = new Set<unknown>()
    const visit = (instance: unknown) => {
      if (isOurs(instance) || seen.has(instance)) return
      seen.add(instance)
      instrumentEnhancer(instance, spans)
    }
    for (const list of [
      this.config.getGlobalGuards(),
      this.config.getGlobalInterceptors(),
      this.config.getGlobalPipes(),
      this.config.getGlobalFilters(),
    ]) {
      for (const enhancer of list) visit(enhancer)
    }
    for (const module of this.modules.values()) {
      for (const wrapper of module.injectables.values()) {
        if (wrapper.isDependencyTreeStatic()) visit(wrapper.instance)
      }
      for (const wrapper of module.controllers.values()) {
        if (wrapper.metatype) for (const instance of inlineEnhancers(wrapper.metatype as object)) visit(instance)
      }
    }
  }
}

function isOurs(instance: unknown): boolean {
  return (
    instance instanceof TracingInterceptor ||
    instance instanceof TracingGuard ||
    instance instanceof TracingExceptionFilter
  )
}

function tracingModule(
  optionsProvider: DynamicModule['providers'],
  imports?: ModuleMetadata['imports'],
): DynamicModule {
  return {
    module: TracingModule,
    global: true,
    imports: imports ?? [],
    providers: [...(optionsProvider ?? []), TracingService, { provide: APP_INTERCEPTOR, useClass: TracingInterceptor }],
    exports: [TracingService],
  }
}

const ENHANCER_METADATA = ['__guards__', '__interceptors__', '__pipes__', '__exceptionFilters__']
const ROUTE_ARGS_METADATA = '__routeArguments__'

/** Enhancers given as instances (`@UseGuards(new AuthGuard())`): Nest keeps them in metadata only. */
function inlineEnhancers(controller: object): unknown[] {
  const reflect = Reflect as unknown as { getMetadata?(key: string, target: object, property?: string): unknown }
  if (!reflect.getMetadata) return []
  const found: unknown[] = []
  const collect = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) if (item && typeof item === 'object') found.push(item)
  }
  const proto = (controller as { prototype?: object }).prototype
  for (const key of ENHANCER_METADATA) collect(reflect.getMetadata(key, controller))
  if (!proto) return found
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = Object.getOwnPropertyDescriptor(proto, name)?.value
    if (typeof method !== 'function') continue
    for (const key of ENHANCER_METADATA) collect(reflect.getMetadata(key, method))
    const args = reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) as
      | Record<string, { pipes?: unknown }>
      | undefined
    if (args) for (const arg of Object.values(args)) collect(arg.pipes)
  }
  return found
}
