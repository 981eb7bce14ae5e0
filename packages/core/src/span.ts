import { fromTimeInput, now, type TimeInput } from './clock.js'
import { diag } from './diag.js'
import type { SpanLimits } from './limits.js'
import type { Resource } from './resource.js'
import { counters } from './stats.js'

/** Span kinds; the numbers are OpenTelemetry's `SpanKind` values. */
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind]

/** Status codes; the numbers are OpenTelemetry's `SpanStatusCode` values. */
export const SpanStatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const
export type SpanStatusCode = (typeof SpanStatusCode)[keyof typeof SpanStatusCode]

/** Trace flags (W3C trace-context §3.2.2.5): sampled, and level 2's random trace id. */
export const TraceFlags = { NONE: 0, SAMPLED: 0x01, RANDOM: 0x02 } as const

export type AttributeValue =
  | string
  | number
  | boolean
  | ReadonlyArray<string | null | undefined>
  | ReadonlyArray<number | null | undefined>
  | ReadonlyArray<boolean | null | undefined>
export type Attributes = Record<string, AttributeValue | undefined>

/** The vendor entries of a W3C `tracestate` header; immutable, as in `@opentelemetry/api`. */
export interface TraceState {
  get(key: string): string | undefined
  set(key: string, value: string): TraceState
  unset(key: string): TraceState
  serialize(): string
}

export interface SpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  traceState?: TraceState | undefined
  /** True when this context came from another process (extracted from headers). */
  isRemote?: boolean | undefined
}

export interface SpanStatus {
  code: SpanStatusCode
  message?: string | undefined
}

export interface InstrumentationScope {
  name: string
  version?: string | undefined
  schemaUrl?: string | undefined
}

export interface SpanEvent {
  name: string
  /** Span time (ms since `performance.timeOrigin`); see clock.ts. */
  time: number
  attributes: Attributes
  droppedAttributesCount: number
}

export interface SpanLink {
  context: SpanContext
  attributes?: Attributes | undefined
  droppedAttributesCount?: number | undefined
}

/** What processors and exporters read from an ended span. */
export interface ReadableSpan {
  readonly name: string
  readonly kind: SpanKind
  spanContext(): SpanContext
  readonly parentSpanContext: SpanContext | undefined
  /** Span times: ms since `performance.timeOrigin` (convert with `epochNanos` etc.). */
  readonly startTime: number
  readonly endTime: number
  readonly attributes: Attributes
  readonly events: readonly SpanEvent[]
  readonly links: readonly SpanLink[]
  readonly status: SpanStatus
  readonly ended: boolean
  readonly resource: Resource
  readonly scope: InstrumentationScope
  readonly droppedAttributesCount: number
  readonly droppedEventsCount: number
  readonly droppedLinksCount: number
}

/** The span API users call; names and semantics mirror `@opentelemetry/api`'s Span. */
export interface Span {
  spanContext(): SpanContext
  setAttribute(key: string, value: AttributeValue | undefined): this
  setAttributes(attributes: Attributes): this
  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this
  addLink(link: SpanLink): this
  addLinks(links: SpanLink[]): this
  setStatus(status: SpanStatus): this
  updateName(name: string): this
  end(endTime?: TimeInput): void
  isRecording(): boolean
  recordException(exception: unknown, time?: TimeInput): void
}

/** Where a recording span reports its end; implemented by the tracer. */
export interface SpanOwner {
  readonly limits: SpanLimits
  readonly resource: Resource
  readonly scope: InstrumentationScope
  onEnd(span: RecordingSpan): void
}

const EMPTY_EVENTS: SpanEvent[] = []
const EMPTY_LINKS: SpanLink[] = []

/** A span that records what happens to it and is exported when it ends. */
export class RecordingSpan implements Span, ReadableSpan {
  name: string
  readonly kind: SpanKind
  readonly parentSpanContext: SpanContext | undefined
  readonly startTime: number
  endTime = 0
  // hot path: attributes are kept as [key, value, key, value, …] and turned into an object once,
  // when an exporter reads `attributes`. An object written with varying keys made every
  // setAttribute a megamorphic keyed store (~50 ns each on the reference machine).
  private attributeList: Array<string | AttributeValue> = []
  private attributeObject: Attributes | undefined
  events: SpanEvent[] = EMPTY_EVENTS
  links: SpanLink[] = EMPTY_LINKS
  status: SpanStatus = UNSET_STATUS
  ended = false
  droppedAttributesCount = 0
  droppedEventsCount = 0
  droppedLinksCount = 0
  private readonly context: SpanContext
  private readonly owner: SpanOwner

  constructor(
    owner: SpanOwner,
    context: SpanContext,
    name: string,
    kind: SpanKind,
    parentSpanContext: SpanContext | undefined,
    startTime: number,
  ) {
    this.owner = owner
    this.context = context
    this.name = name
    this.kind = kind
    this.parentSpanContext = parentSpanContext
    this.startTime = startTime
  }

  get resource(): Resource {
    return this.owner.resource
  }

  /** The span's attributes as an object (built on first read, rebuilt if they changed since). */
  get attributes(): Attributes {
    let out = this.attributeObject
    if (out === undefined) {
      out = {}
      const list = this.attributeList
      for (let i = 0; i < list.length; i += 2) out[list[i] as string] = list[i + 1] as AttributeValue
      this.attributeObject = out
    }
    return out
  }

  get scope(): InstrumentationScope {
    return this.owner.scope
  }

  /**
   * The attributes as the span keeps them, `[key, value, key, value, …]`, for exporters that only
   * iterate them (the OTLP encoders): reading `attributes` builds an object first. Undefined once
   * that object exists, since a processor may have changed the span through it. Do not modify.
   */
  get attributePairs(): ReadonlyArray<string | AttributeValue> | undefined {
    return this.attributeObject === undefined ? this.attributeList : undefined
  }

  /** Wall-clock duration in milliseconds (0 until ended). */
  get duration(): number {
    return this.ended ? this.endTime - this.startTime : 0
  }

  spanContext(): SpanContext {
    return this.context
  }

  isRecording(): boolean {
    return !this.ended
  }

  // hot path: primitives (almost every attribute) skip the generic sanitizer.
  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended) return ignoredOnEnded(this)
    if (value === undefined || value === null) return this
    const limits = this.owner.limits
    let clean: AttributeValue | undefined
    const type = typeof value
    if (type === 'string') {
      clean =
        (value as string).length > limits.attributeValueLengthLimit
          ? (value as string).slice(0, limits.attributeValueLengthLimit)
          : value
    } else if (type === 'number' || type === 'boolean') {
      clean = value
    } else {
      clean = sanitizeValue(value, limits.attributeValueLengthLimit)
    }
    if (clean === undefined || !key) {
      counters.dataDropped++
      this.droppedAttributesCount++
      diag.warn('TL_ERR_ATTRIBUTE_VALUE', `attribute "${key}" has an unsupported value (${type}); dropped`)
      return this
    }
    const list = this.attributeList
    this.attributeObject = undefined
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === key) {
        list[i + 1] = clean
        return this
      }
    }
    if (list.length >= limits.attributeCountLimit * 2) {
      counters.dataDropped++
      this.droppedAttributesCount++
      return this
    }
    list.push(key, clean)
    return this
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key])
    return this
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return ignoredOnEnded(this)
    let attributes: Attributes | undefined
    if (typeof attributesOrTime === 'number' || attributesOrTime instanceof Date || Array.isArray(attributesOrTime)) {
      time = attributesOrTime as TimeInput
    } else attributes = attributesOrTime as Attributes | undefined
    const limits = this.owner.limits
    if (this.events.length >= limits.eventCountLimit) {
      counters.dataDropped++
      this.droppedEventsCount++
      return this
    }
    if (this.events === EMPTY_EVENTS) this.events = []
    const limited = limitAttributes(attributes, limits.attributePerEventCountLimit, limits.attributeValueLengthLimit)
    this.events.push({
      name: String(name),
      time: time === undefined ? now() : fromTimeInput(time),
      attributes: limited.attributes,
      droppedAttributesCount: limited.dropped,
    })
    return this
  }

  addLink(link: SpanLink): this {
    if (this.ended) return ignoredOnEnded(this)
    const limits = this.owner.limits
    if (this.links.length >= limits.linkCountLimit) {
      counters.dataDropped++
      this.droppedLinksCount++
      return this
    }
    if (this.links === EMPTY_LINKS) this.links = []
    const limited = limitAttributes(
      link.attributes,
      limits.attributePerLinkCountLimit,
      limits.attributeValueLengthLimit,
    )
    this.links.push({
      context: link.context,
      attributes: limited.attributes,
      droppedAttributesCount: (link.droppedAttributesCount ?? 0) + limited.dropped,
    })
    return this
  }

  addLinks(links: SpanLink[]): this {
    for (const link of links) this.addLink(link)
    return this
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) return ignoredOnEnded(this)
    // OTel trace API §Set Status: UNSET is ignored, OK is final, a message only goes with ERROR.
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this
    this.status =
      status.code === SpanStatusCode.ERROR
        ? { code: SpanStatusCode.ERROR, message: status.message === undefined ? undefined : String(status.message) }
        : OK_STATUS
    return this
  }

  updateName(name: string): this {
    if (this.ended) return ignoredOnEnded(this)
    this.name = String(name)
    return this
  }

  recordException(exception: unknown, time?: TimeInput): void {
    if (this.ended) {
      ignoredOnEnded(this)
      return
    }
    this.addEvent('exception', exceptionAttributes(exception), time)
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      ignoredOnEnded(this)
      return
    }
    let end = endTime === undefined ? now() : fromTimeInput(endTime)
    if (end < this.startTime) end = this.startTime
    this.endTime = end
    this.ended = true
    this.owner.onEnd(this)
  }
}

const UNSET_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET })
const OK_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.OK })

function ignoredOnEnded<T>(span: T): T {
  counters.callsOnEndedSpans++
  diag.debug('TL_ERR_SPAN_ENDED', 'a call on a span that has already ended was ignored')
  return span
}

/** The attributes of an `exception` event (OTel semantic conventions, exceptions). */
export function exceptionAttributes(exception: unknown): Attributes {
  if (exception instanceof Error) {
    const code = (exception as { code?: unknown }).code
    return {
      'exception.type': typeof code === 'string' && code ? code : exception.name || exception.constructor?.name,
      'exception.message': exception.message,
      'exception.stacktrace': exception.stack,
    }
  }
  if (exception && typeof exception === 'object') {
    const e = exception as { name?: unknown; message?: unknown; stack?: unknown }
    return {
      'exception.type': typeof e.name === 'string' ? e.name : 'Error',
      'exception.message': typeof e.message === 'string' ? e.message : safeString(exception),
      'exception.stacktrace': typeof e.stack === 'string' ? e.stack : undefined,
    }
  }
  return { 'exception.type': typeof exception, 'exception.message': safeString(exception) }
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    return String(value)
  }
}

/** Returns a value OTLP can carry (primitives, homogeneous arrays), truncated to the length limit. */
export function sanitizeValue(value: AttributeValue, maxLength: number): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > maxLength ? value.slice(0, maxLength) : value
    case 'number':
    case 'boolean':
      return value
    case 'object':
      return Array.isArray(value) ? sanitizeArray(value, maxLength) : undefined
    default:
      return undefined
  }
}

function sanitizeArray(value: readonly unknown[], maxLength: number): AttributeValue | undefined {
  let type: string | undefined
  for (const item of value) {
    if (item === null || item === undefined) continue
    const t = typeof item
    if (t !== 'string' && t !== 'number' && t !== 'boolean') return undefined
    if (type === undefined) type = t
    else if (type !== t) return undefined
  }
  if (type === 'string' && Number.isFinite(maxLength)) {
    return (value as Array<string | null | undefined>).map((s) =>
      typeof s === 'string' && s.length > maxLength ? s.slice(0, maxLength) : s,
    )
  }
  // copy: the caller may mutate its array after the call
  return value.slice() as AttributeValue
}

function limitAttributes(
  attributes: Attributes | undefined,
  countLimit: number,
  lengthLimit: number,
): { attributes: Attributes; dropped: number } {
  const out: Attributes = {}
  let dropped = 0
  let count = 0
  if (attributes) {
    for (const key in attributes) {
      const value = attributes[key]
      if (value === undefined || value === null) continue
      const clean = sanitizeValue(value, lengthLimit)
      if (clean === undefined || count >= countLimit) {
        dropped++
        continue
      }
      out[key] = clean
      count++
    }
  }
  if (dropped) counters.dataDropped += dropped
  return { attributes: out, dropped }
}

/** A span that is not recorded (not sampled, or tracing off): it only carries its context. */
export class NonRecordingSpan implements Span {
  constructor(private readonly context: SpanContext) {}
  spanContext(): SpanContext {
    return this.context
  }
  setAttribute(): this {
    return this
  }
  setAttributes(): this {
    return this
  }
  addEvent(): this {
    return this
  }
  addLink(): this {
    return this
  }
  addLinks(): this {
    return this
  }
  setStatus(): this {
    return this
  }
  updateName(): this {
    return this
  }
  end(): void {}
  isRecording(): boolean {
    return false
  }
  recordException(): void {}
}

export function isSampled(context: SpanContext): boolean {
  return (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
}

/**
 * A span's attributes as `[key, value, …]` without building an object, when the span keeps them
 * that way (spans Threadline recorded, whose `attributes` nobody has read); else undefined, and
 * the caller reads `attributes`.
 */
export function attributePairsOf(span: ReadableSpan): ReadonlyArray<string | AttributeValue> | undefined {
  return span instanceof RecordingSpan ? span.attributePairs : undefined
}
