/**
 * The Nest majors the adapter is tested on besides the root's (see versions.test.ts). Each has a
 * fixture directory, `nest<major>-fixture/`, with its own @nestjs/*, rxjs and reflect-metadata.
 *
 * A module imported as `./file.js?nest=10` is a second copy of that file in which `@nestjs/*`,
 * `rxjs` and `reflect-metadata` come from the Nest 10 fixture; the query is passed on to every
 * relative import (the test app, the harness, the adapter's src), so the adapter runs against
 * the same Nest as the application. `@threadline/core` stays one shared module.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'vitest/config'

export const NEST_MAJORS = [10, 11] as const

export function fixtureDir(major: number): string {
  return fileURLToPath(new URL(`./nest${major}-fixture/`, import.meta.url))
}

const QUERY = /[?&]nest=(\d+)/
const FRAMEWORK = /^(?:@nestjs\/[^/]+|rxjs|reflect-metadata)(?:\/|$)/

export function nestVersions(): Plugin {
  const requires = new Map<string, NodeJS.Require>()
  const fixtureRequire = (major: string) => {
    let req = requires.get(major)
    if (!req) {
      req = createRequire(`${fixtureDir(Number(major))}package.json`)
      requires.set(major, req)
    }
    return req
  }
  return {
    name: 'threadline:nest-versions',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      const major = importer ? QUERY.exec(importer)?.[1] : undefined
      if (!importer || !major) return null
      // Node loads the fixture's packages (CommonJS) itself, as it does the root's
      if (FRAMEWORK.test(source)) return fixtureRequire(major).resolve(source)
      if (!source.startsWith('.')) return null
      const resolved = await this.resolve(source, importer.replace(/\?.*$/, ''), { ...options, skipSelf: true })
      if (!resolved || resolved.external || resolved.id.includes('/node_modules/')) return resolved
      return `${resolved.id.replace(/\?.*$/, '')}?nest=${major}`
    },
  }
}
