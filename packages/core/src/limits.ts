import { envNumber } from './env.js'

/** Limits on what one span keeps; the defaults and variables are OpenTelemetry's. */
export interface SpanLimits {
  attributeCountLimit: number
  attributeValueLengthLimit: number
  eventCountLimit: number
  linkCountLimit: number
  attributePerEventCountLimit: number
  attributePerLinkCountLimit: number
}

export function spanLimitsFromEnv(overrides: Partial<SpanLimits> = {}): SpanLimits {
  const generalCount = envNumber('OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128
  const generalLength = envNumber('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Number.POSITIVE_INFINITY
  return {
    attributeCountLimit: envNumber('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? generalCount,
    attributeValueLengthLimit: envNumber('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? generalLength,
    eventCountLimit: envNumber('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
    linkCountLimit: envNumber('OTEL_SPAN_LINK_COUNT_LIMIT') ?? 128,
    attributePerEventCountLimit: envNumber('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT') ?? 128,
    attributePerLinkCountLimit: envNumber('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT') ?? 128,
    ...overrides,
  }
}
