// Both supported majors, installed side by side at the root (express4 is an alias of express@4).

import express5 from 'express'
import express4 from 'express4'

export type Express = typeof express5
export const majors: Array<[string, Express]> = [
  ['express 4', express4 as unknown as Express],
  ['express 5', express5],
]
