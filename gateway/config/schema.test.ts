import { describe, expect, it } from 'vitest'
import { configJsonSchema } from './schema.js'

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
      'models',
    ])
  })
})
