export { type ThreadlineKoaOptions, threadline } from './middleware.js'
