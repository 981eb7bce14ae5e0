declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
declare module 'koa-router' {
  import Router from '@koa/router'
  export default Router
}
