export { TracingModule, type TracingModuleAsyncOptions, type TracingModuleOptions } from './module.js'
export { TracingService } from './service.js'
export { Traced } from './traced.js'
