import { describe, expect, it } from 'vitest'
import { formatGraphql, formatSql } from './documents.js'

const text = (tokens: { text: string }[]) => tokens.map((t) => t.text).join('')

describe('document formatting', () => {
  it('breaks SQL before clauses', () => {
    expect(
      text(
        formatSql(
          'select id, name from users u left join orders o on o.user_id = u.id where u.id = $1 and o.total > ? order by o.id limit 10',
        ),
      ),
    ).toBe(
      'SELECT id, name\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nWHERE u.id = $1\n  AND o.total > ?\nORDER BY o.id\nLIMIT 10',
    )
  })

  it('indents GraphQL selection sets, one field per line', () => {
    expect(text(formatGraphql('query Posts($n: Int) { posts(first: $n, after: "x") { id author { name } } }'))).toBe(
      'query Posts($n: Int) {\n  posts(first: $n, after: "x") {\n    id\n    author {\n      name\n    }\n  }\n}',
    )
  })
})
