import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { configJsonSchema, problemsAgainst, schemaProblems } from './schema.js'

describe('configJsonSchema', () => {
  it('is plain JSON Schema with $schema and title, describing every top-level section', () => {
    const schema = JSON.parse(JSON.stringify(configJsonSchema())) as Record<string, unknown>
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(schema.title).toBe('Cortex configuration (cortex.yaml)')
    expect(schema.type).toBe('object')
    expect(schema.additionalProperties).toBe(false)
    expect(Object.keys(schema.properties as object)).toEqual([
      'server',
      'auth',
      'limits',
      'metrics',
      'logging',
      'engines',
      'cache',
      'models',
      'routes',
    ])
  })

  it('documents the server deadlines and the connection cap, with their defaults', () => {
    const server = (configJsonSchema() as { properties: { server: { properties: Record<string, { description?: string }> } } })
      .properties.server.properties
    expect(server.headersTimeout?.description).toMatch(/headers.*408 request_timeout.*default 10s, 0 = never/)
    expect(server.requestTimeout?.description).toMatch(/whole request.*never the answer.*default 30s/)
    expect(server.maxConnectionsPerClient?.description).toMatch(/503 too_many_connections.*Default 1024/)
  })

  it('still names a duration as such where a field describes it', () => {
    const value = { server: { headersTimeout: 'forever', requestTimeout: -1 } }
    expect(schemaProblems(value).map((p) => p.expected)).toEqual([
      'expected a duration like 30s, 30m, 2h (got "forever")',
      'expected a duration like 30s, 30m, 2h (got -1)',
    ])
  })
})

describe('problemsAgainst', () => {
  const body = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 64 }),
      password: Type.Optional(Type.String({ minLength: 12, maxLength: 1024 })),
      tags: Type.Optional(Type.Array(Type.String(), { minItems: 2, maxItems: 3 })),
      kind: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
      limit: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
    },
    { additionalProperties: false },
  )
  const validator = Compile(body)
  const style = { noun: 'field', requiredAt: 'key', object: 'a JSON object' } as const
  const first = (value: unknown) => problemsAgainst(body, validator, value, style)[0]

  it.each([
    [{ name: 'n'.repeat(65) }, '/name', 'expected at most 64 characters (got 65)'],
    [{ name: '' }, '/name', 'expected a non-empty string (got "")'],
    [{ name: 'ann', password: 'p'.repeat(11) }, '/password', 'expected at least 12 characters (got 11)'],
    [{ name: 'ann', tags: ['x'] }, '/tags', 'expected at least 2 items (got 1)'],
    [{ name: 'ann', tags: ['x', 'y', 'z', 'w'] }, '/tags', 'expected at most 3 items (got 4)'],
  ])('names the bound a length breaks, and the length found, never the value: %j', (value, path, expected) => {
    expect(first(value)).toEqual({ path, expected })
  })

  it('cuts an unknown name it repeats', () => {
    expect(first({ name: 'ann', ['k'.repeat(500)]: 1 })?.expected).toMatch(/^unknown field "k{64}…" \(500 characters\)/)
  })

  it('describes literals and exclusive bounds', () => {
    expect(first({ name: 'ann', kind: 'c' })?.expected).toBe('expected one of a, b (got "c")')
    expect(first({ name: 'ann', limit: 0 })?.expected).toBe('expected a number > 0 and <= 10 (got 0)')
  })
})
