import { getTracer } from '@threadline/core'
import { VERSION } from './version.js'

/** The tracer of every span this package starts. */
export const tracer = getTracer('@threadline/nestjs', VERSION)
