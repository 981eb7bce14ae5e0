import { describePipelineSpans, useTracing } from './lifecycle.js'

useTracing()
describePipelineSpans()
