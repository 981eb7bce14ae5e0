// The incremental-delivery wrapper alone, with streams graphql would not produce: whatever the
// payloads look like and whatever ending the operation does, the consumer gets the stream as is.
import { describe, expect, it } from 'vitest'
import { followIncremental, type IncrementalResultLike } from './incremental.js'

async function* payloads(values: unknown[]) {
  for (const value of values) yield value
}

describe('followIncremental', () => {
  it('hands every payload through unchanged, and ends the operation once, with the errors it found', async () => {
    const ends: unknown[][] = []
    const op = { end: (result: { errors?: readonly unknown[] }) => void ends.push([...(result.errors ?? [])]) }
    const error = { message: 'later failure', path: ['a'] }
    const values = [
      { hasNext: true, incremental: 'not a list' },
      { hasNext: true, completed: [{ id: '0', errors: 'not a list either' }], incremental: [null] },
      { hasNext: false, completed: [{ id: '1', errors: [error] }] },
    ]
    const result: IncrementalResultLike = { initialResult: { hasNext: true }, subsequentResults: payloads(values) }
    expect(followIncremental(op, result)).toBe(true)
    const seen: unknown[] = []
    for await (const payload of result.subsequentResults as AsyncIterable<unknown>) seen.push(payload)
    expect(seen).toEqual(values)
    expect(ends).toEqual([[error]])
  })

  it('a failure to end the operation never reaches the consumer', async () => {
    const op = {
      end: () => {
        throw new Error('exporter trouble')
      },
    }
    const result: IncrementalResultLike = {
      initialResult: { hasNext: true },
      subsequentResults: payloads([{ hasNext: false }]),
    }
    expect(followIncremental(op, result)).toBe(true)
    const stream = result.subsequentResults as AsyncGenerator<unknown>
    await expect(stream.next()).resolves.toEqual({ done: false, value: { hasNext: false } })
    await expect(stream.return(undefined)).resolves.toEqual({ done: true, value: undefined })
  })

  it('leaves a result alone when nothing follows, or when it cannot be changed', () => {
    const op = { end: () => {} }
    expect(followIncremental(op, { initialResult: { hasNext: false }, subsequentResults: payloads([]) })).toBe(false)
    const frozen = Object.freeze({ initialResult: { hasNext: true }, subsequentResults: payloads([]) })
    expect(followIncremental(op, frozen as IncrementalResultLike)).toBe(false)
    expect(frozen.subsequentResults).toBeDefined()
  })
})
