// Both supported Koa majors and both routers, installed side by side at the root (koa2 is an alias of koa@2).
import KoaRouter from '@koa/router'
import Koa3 from 'koa'
import LegacyRouter from 'koa-router'
import Koa2 from 'koa2'

export type Koa = typeof Koa3
export type Router = typeof KoaRouter
export const majors: Array<[string, Koa]> = [
  ['koa 2', Koa2 as unknown as Koa],
  ['koa 3', Koa3],
]
export const routers: Array<[string, Router]> = [
  ['@koa/router', KoaRouter],
  ['koa-router', LegacyRouter as unknown as Router],
]
/** Every Koa major with every router. */
export const matrix: Array<[string, Koa, Router]> = majors.flatMap(([k, koa]) =>
  routers.map(([r, router]): [string, Koa, Router] => [`${k} + ${r}`, koa, router]),
)
