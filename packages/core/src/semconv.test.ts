import { describe, expect, it } from 'vitest'
import {
  errorType,
  httpClientStatus,
  httpServerStatus,
  httpSpanName,
  isSensitiveHeader,
  normalizeMethod,
  redactQuery,
  redactUrl,
} from './semconv.js'
import { SpanStatusCode } from './span.js'

describe('semantic conventions', () => {
  it.each([
    ['GET', { method: 'GET' }],
    ['get', { method: 'GET', original: 'get' }],
    ['PURGE', { method: '_OTHER', original: 'PURGE' }],
    [undefined, { method: 'GET' }],
  ])('normalizes method %s', (input, expected) => {
    expect(normalizeMethod(input)).toEqual(expected)
  })

  it('names HTTP spans by route template, never the raw URL', () => {
    expect(httpSpanName('GET', '/users/:id')).toBe('GET /users/:id')
    expect(httpSpanName('GET')).toBe('GET')
    expect(httpSpanName('_OTHER', '/x')).toBe('HTTP /x')
  })

  it.each([
    [200, SpanStatusCode.UNSET, SpanStatusCode.UNSET],
    [404, SpanStatusCode.UNSET, SpanStatusCode.ERROR],
    [409, SpanStatusCode.UNSET, SpanStatusCode.ERROR],
    [500, SpanStatusCode.ERROR, SpanStatusCode.ERROR],
    [503, SpanStatusCode.ERROR, SpanStatusCode.ERROR],
  ])('maps status %i: server %i, client %i', (code, server, client) => {
    expect(httpServerStatus(code).code).toBe(server)
    expect(httpClientStatus(code).code).toBe(client)
  })

  it('redacts sensitive query values and keeps the rest', () => {
    expect(redactQuery('q=shoes&access_token=abc&page=2&Signature=xyz')).toBe(
      'q=shoes&access_token=REDACTED&page=2&Signature=REDACTED',
    )
    expect(redactQuery('q=shoes')).toBe('q=shoes')
    expect(redactQuery('%ZZ=1&token=2')).toBe('%ZZ=1&token=REDACTED')
  })

  it('redacts credentials and query values in full URLs', () => {
    expect(redactUrl('https://user:pass@example.com:8443/a/b?sig=123&x=1#frag')).toBe(
      'https://REDACTED:REDACTED@example.com:8443/a/b?sig=REDACTED&x=1',
    )
    expect(redactUrl('http://example.com/path@not-userinfo')).toBe('http://example.com/path@not-userinfo')
    expect(redactUrl('not a url')).toBe('not a url')
  })

  it('knows sensitive headers', () => {
    for (const h of ['Authorization', 'cookie', 'Set-Cookie', 'proxy-authorization'])
      expect(isSensitiveHeader(h)).toBe(true)
    expect(isSensitiveHeader('user-agent')).toBe(false)
  })

  it('derives error.type from codes and class names', () => {
    expect(errorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET')
    expect(errorType(new TypeError('x'))).toBe('TypeError')
    expect(errorType('string')).toBe('_OTHER')
  })
})
