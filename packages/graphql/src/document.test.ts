import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { findOperation, sanitizeDocument } from './document.js'

describe('sanitizeDocument', () => {
  it('drops comments, collapses whitespace and commas, and replaces literals', () => {
    const source = `
      # who is asking
      query Find($id: ID!, $limit: Int = 10) {
        user(id: "42", note: """a
        block""") { name, age(unit: -1.5e3) }
        list(ids: [1, 2, 3], enabled: true, mode: FAST, input: { email: "a@b.c" })
      }`
    expect(sanitizeDocument(source, 1000)).toBe(
      'query Find($id: ID! $limit: Int = ?) { user(id: ? note: ?) { name age(unit: ?) } list(ids: [? ? ?] enabled: true mode: FAST input: { email: ? }) }',
    )
  })

  it('keeps escaped quotes inside a string literal', () => {
    expect(sanitizeDocument('{ a(s: "x \\" y") }', 100)).toBe('{ a(s: ?) }')
  })

  it('caps the length', () => {
    expect(sanitizeDocument('{ aaaaaaaaaa bbbbbbbbbb }', 10)).toBe('{ aaaaaaaa')
  })
})

describe('findOperation', () => {
  const document = parse('query A { a } mutation B { b } fragment F on Query { a }')
  it('finds the named operation, or the only one', () => {
    expect(findOperation(document, 'B')?.operation).toBe('mutation')
    expect(findOperation(document, undefined)).toBeUndefined()
    expect(findOperation(parse('{ a }'), undefined)?.operation).toBe('query')
    expect(findOperation(document, 'C')).toBeUndefined()
  })
})
