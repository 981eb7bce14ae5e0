import { activeContext, contextWithSpan, recordError, SpanKind, withContext } from '@threadline/core'
import { observe } from './result.js'
import { tracer } from './tracer.js'

const TRACED = Symbol.for('threadline.nestjs.traced')

type Method = ((...args: unknown[]) => unknown) & { [TRACED]?: true }

/** reflect-metadata's API, used only if the application loaded it (every Nest app does). */
interface MetadataReflect {
  getOwnMetadataKeys?(target: object): unknown[]
  getOwnMetadata?(key: unknown, target: object): unknown
  defineMetadata?(key: unknown, value: unknown, target: object): void
}

/**
 * Times a method in an INTERNAL span, child of the active span, named `ClassName.method` (or
 * `name`); on a class, every method of its prototype. Works for methods that return a value, a
 * promise or an Observable (the span ends when it completes); a throw or rejection is recorded.
 *
 * ```ts
 * @Injectable() @Traced() class CatsService { findAll() {} }   // span "CatsService.findAll"
 * @Traced('cats.load') load() {}                                // span "cats.load"
 * ```
 * On a class, `name` replaces the class name: `@Traced('Cats')` gives `Cats.findAll`.
 */
export function Traced(name?: string): MethodDecorator & ClassDecorator {
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      if (typeof descriptor.value !== 'function') return descriptor
      const owner = (target as { constructor?: { name?: string } }).constructor?.name ?? 'Anonymous'
      descriptor.value = traceMethod(descriptor.value as Method, name ?? `${owner}.${String(key)}`)
      return descriptor
    }
    const cls = target as { name: string; prototype: object }
    const prefix = name ?? cls.name
    for (const method of Object.getOwnPropertyNames(cls.prototype)) {
      if (method === 'constructor') continue
      const d = Object.getOwnPropertyDescriptor(cls.prototype, method)
      if (!d || typeof d.value !== 'function' || d.get || d.set || (d.value as Method)[TRACED]) continue
      Object.defineProperty(cls.prototype, method, {
        ...d,
        value: traceMethod(d.value as Method, `${prefix}.${method}`),
      })
    }
    return undefined
  }) as MethodDecorator & ClassDecorator
}

function traceMethod(original: Method, spanName: string): Method {
  if (original[TRACED]) return original
  const traced = function (this: unknown, ...args: unknown[]) {
    const parent = activeContext()
    const span = tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, parent)
    // hot path: an unsampled call costs one non-recording span and nothing else
    if (!span.isRecording()) return original.apply(this, args)
    const ctx = contextWithSpan(parent, span)
    let result: unknown
    try {
      result = withContext(ctx, () => original.apply(this, args))
    } catch (error) {
      recordError(span, error)
      span.end()
      throw error
    }
    // a synchronous answer ends the span here, without a closure per call
    if (result === null || typeof result !== 'object') {
      span.end()
      return result
    }
    return observe(result, ctx, (failed, _value, error) => {
      if (failed) recordError(span, error)
      span.end()
    })
  } as Method
  traced[TRACED] = true
  Object.defineProperty(traced, 'name', { value: original.name })
  Object.defineProperty(traced, 'length', { value: original.length })
  copyMetadata(original, traced)
  return traced
}

/** Nest's method decorators (`@Get()`, `@MessagePattern()`) keep their metadata on the function. */
function copyMetadata(from: object, to: object): void {
  const reflect = Reflect as unknown as MetadataReflect
  if (!reflect.getOwnMetadataKeys || !reflect.getOwnMetadata || !reflect.defineMetadata) return
  for (const key of reflect.getOwnMetadataKeys(from)) {
    reflect.defineMetadata(key, reflect.getOwnMetadata(key, from), to)
  }
}
