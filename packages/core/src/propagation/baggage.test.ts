import { describe, expect, it } from 'vitest'
import { activeContext, ROOT_CONTEXT } from '../context.js'
import {
  w3cBaggagePropagator as baggage,
  getBaggage,
  MAX_BAGGAGE_BYTES,
  parseBaggage,
  serializeBaggage,
  setBaggage,
  withBaggage,
} from './baggage.js'
import { headerGetter, headerSetter } from './propagator.js'

function extracted(header: unknown) {
  return Object.fromEntries(
    [...getBaggage(baggage.extract(ROOT_CONTEXT, { baggage: header }, headerGetter))].map(([k, v]) =>
      v.metadata ? [k, `${v.value};${v.metadata}`] : [k, v.value],
    ),
  )
}

describe('baggage header (W3C baggage §3)', () => {
  const cases: Array<[string, unknown, Record<string, string>]> = [
    [
      '§3.3.1 simple list',
      'userId=alice,serverNode=DF%2028,isProduction=false',
      { userId: 'alice', serverNode: 'DF 28', isProduction: 'false' },
    ],
    [
      '§3.3.1 OWS around keys, values and members',
      'userId =   alice , serverNode = DF%2028',
      { userId: 'alice', serverNode: 'DF 28' },
    ],
    [
      '§3 several headers combined',
      ['userId=alice', 'serverNode=DF%2028,isProduction=false'],
      { userId: 'alice', serverNode: 'DF 28', isProduction: 'false' },
    ],
    [
      '§3.3.1.4 properties kept as metadata',
      'key1=value1;property1;property2, key3=value3; propertyKey=propertyValue',
      { key1: 'value1;property1;property2', key3: 'value3;propertyKey=propertyValue' },
    ],
    ['§3.3.1.3 value may contain "="', 'a=b=c', { a: 'b=c' }],
    ['§3.3.1.3 percent-encoded UTF-8', 'name=J%C3%BCrgen', { name: 'Jürgen' }],
    ['§3.3.1.3 empty value', 'a=', { a: '' }],
    ['§4 an invalid member is dropped, the others kept', 'a=1,b c=2,d=3', { a: '1', d: '3' }],
    ['§3.3.1.3 invalid percent-encoding drops the member', 'a=%E0%A4%A,b=2', { b: '2' }],
    ['§3.3.1.3 DQUOTE in a value drops the member', 'a="x",b=2', { b: '2' }],
    ['§3.3.1.2 key must be a token', '(a)=1,b=2', { b: '2' }],
    ['§3.3.1 member without "="', 'a,b=2', { b: '2' }],
    ['§3.3.1.4 invalid property drops the member', 'a=1;p=\\x,b=2', { b: '2' }],
    ['§3.3.1 duplicate keys: last wins', 'a=1,a=2', { a: '2' }],
    ['empty header', '', {}],
    ['empty members', ' , ,a=1,,', { a: '1' }],
  ]
  it.each(cases)('%s', (_, header, expected) => {
    expect(extracted(header)).toEqual(expected)
  })

  it('§3.3.2 limits: at most 64 members are read', () => {
    const header = Array.from({ length: 100 }, (_, i) => `k${i}=v`).join(',')
    expect(parseBaggage(header).size).toBe(64)
  })

  it('§3.3.2 limits: at most 8192 bytes are read, never a partial member', () => {
    const header = Array.from({ length: 10 }, (_, i) => `k${i}=${'v'.repeat(1000)}`).join(',')
    const parsed = parseBaggage(header)
    expect(parsed.size).toBe(8)
    expect(serializeBaggage(parsed).length).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES)
  })

  it('§3.3.2 serialize keeps 64 members and 8192 bytes, whole members only', () => {
    const many = new Map(Array.from({ length: 80 }, (_, i) => [`k${i}`, { value: 'v' }]))
    expect(serializeBaggage(many).split(',')).toHaveLength(64)
    const big = new Map([
      ['a', { value: 'x'.repeat(5000) }],
      ['b', { value: 'y'.repeat(5000) }],
      ['c', { value: 'z' }],
    ])
    expect(serializeBaggage(big)).toBe(`a=${'x'.repeat(5000)},c=z`)
  })

  it('round-trips with percent-encoding and properties', () => {
    const ctx = baggage.extract(ROOT_CONTEXT, { baggage: 'a=J%C3%BCrgen%2C%20x;p1;p2=v2,b=2' }, headerGetter)
    const out: Record<string, string> = {}
    baggage.inject(ctx, out, headerSetter)
    expect(out.baggage).toBe('a=J%C3%BCrgen%2C%20x;p1;p2=v2,b=2')
  })
})

describe('baggage API', () => {
  it('setBaggage / getBaggage on a context', () => {
    const ctx = setBaggage(ROOT_CONTEXT, { tenant: 'acme', user: { value: 'u 1', metadata: 'p' } })
    expect(getBaggage(ctx).get('tenant')?.value).toBe('acme')
    const out: Record<string, string> = {}
    baggage.inject(ctx, out, headerSetter)
    expect(out.baggage).toBe('tenant=acme,user=u%201;p')
    expect(getBaggage(ROOT_CONTEXT).size).toBe(0)
  })

  it('withBaggage merges into the active baggage and removes undefined keys', async () => {
    await withBaggage({ a: '1', b: '2' }, async () => {
      await new Promise((r) => setTimeout(r, 1))
      expect(getBaggage().get('a')?.value).toBe('1')
      withBaggage({ b: undefined, c: '3' }, () => {
        expect([...getBaggage(activeContext()).keys()]).toEqual(['a', 'c'])
      })
    })
    expect(getBaggage().size).toBe(0)
  })

  it('drops keys that are not tokens', () => {
    expect(getBaggage(setBaggage(ROOT_CONTEXT, { 'bad key': 'x', ok: 'y' })).size).toBe(1)
  })
})
