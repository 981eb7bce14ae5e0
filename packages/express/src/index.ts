export { type ThreadlineExpressOptions, threadline } from './middleware.js'
