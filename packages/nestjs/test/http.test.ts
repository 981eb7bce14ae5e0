import { describeLifecycle, useTracing } from './lifecycle.js'

useTracing()
describeLifecycle()
