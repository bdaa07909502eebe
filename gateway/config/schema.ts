import { Compile } from 'typebox/compile'
import type { TLocalizedValidationError } from 'typebox/error'
import { Settings } from 'typebox/system'
import { ByteSize, ConfigFile, Duration, ModelConfig } from '../contract/index.js'
import { describeValue, joinPointer, splitPointer, valueAt, type Problem } from './issues.js'

const configValidator = Compile(ConfigFile)
const modelValidator = Compile(ModelConfig)

/** The config file's JSON Schema (TypeBox schemas are JSON Schema), for editors and docs. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Cortex configuration (cortex.yaml)',
    ...(JSON.parse(JSON.stringify(ConfigFile)) as Record<string, unknown>),
  }
}

export function isValidModel(value: unknown): value is ModelConfig {
  return modelValidator.Check(value)
}

/** Every schema problem of a parsed config file, each phrased for a person. */
export function schemaProblems(value: unknown): Problem[] {
  if (configValidator.Check(value)) return []
  const errors = allErrors(value)
  // A failed union reports one error per branch as well: keep the union's own error, described as a whole.
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath)
  const kept = errors.filter((e) => !unions.some((u) => e.schemaPath.startsWith(`${u}/anyOf/`)))
  const problems = kept.flatMap((e) => toProblems(e, value))
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.expected === p.expected) === i)
}

function allErrors(value: unknown): TLocalizedValidationError[] {
  // TypeBox stops collecting at the global maxErrors (8 by default); every problem is wanted here. TypeBox
  // itself swaps this setting around its parse errors; Errors() is synchronous, so nothing else sees it.
  const previous = Settings.Get().maxErrors
  Settings.Set({ maxErrors: 1000 })
  try {
    return configValidator.Errors(value)
  } finally {
    Settings.Set({ maxErrors: previous })
  }
}

function toProblems(error: TLocalizedValidationError, root: unknown): Problem[] {
  switch (error.keyword) {
    case 'boolean':
      // `additionalProperties: false` reports each extra key twice; the additionalProperties error names them.
      return []
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(error.schemaPath).properties ?? {}).join(', ')
      return error.params.additionalProperties.map((key) => ({
        path: joinPointer(error.instancePath, key),
        expected: `unknown key "${key}" (allowed: ${allowed})`,
      }))
    }
    case 'required':
      return error.params.requiredProperties.map((key) => ({
        path: error.instancePath,
        expected: `missing required key "${key}"`,
      }))
    default: {
      const schema = schemaAt(error.schemaPath)
      const expected = describeSchema(schema, splitPointer(error.instancePath).at(-1))
      return [
        { path: error.instancePath, expected: `expected ${expected} (got ${describeValue(valueAt(root, error.instancePath))})` },
      ]
    }
  }
}

interface SchemaNode {
  type?: string
  const?: unknown
  anyOf?: SchemaNode[]
  items?: SchemaNode
  properties?: Record<string, SchemaNode>
  pattern?: string
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  description?: string
}

function schemaAt(schemaPath: string): SchemaNode {
  let node: unknown = ConfigFile
  for (const segment of splitPointer(schemaPath.replace(/^#/, ''))) node = (node as Record<string, unknown>)[segment]
  return node as SchemaNode
}

/** Shapes whose generic description would read badly, by the key that holds them. */
const BY_KEY: Record<string, string> = {
  gpus: '"all", "none" or a list of GPU indexes or UUIDs',
  baseUrl: 'an http:// or https:// URL, or a list of them (one replica each)',
}

const BY_PATTERN: Record<string, string> = {
  '^https?://': 'an http:// or https:// URL',
  '^[A-Za-z0-9][A-Za-z0-9._:/-]*$': 'a name of letters, digits and . _ : / - that starts with a letter or digit',
}

/** A noun phrase for what the schema accepts: `a duration like 30s, 30m, 2h`, `one of llamacpp, vllm, openai`. */
export function describeSchema(schema: SchemaNode, key?: string): string {
  if (schema.description === (Duration as SchemaNode).description) return 'a duration like 30s, 30m, 2h'
  if (schema.description === (ByteSize as SchemaNode).description) return 'a size like 64MiB, 512KB, 1GiB'
  if (key !== undefined && key in BY_KEY) return BY_KEY[key]!
  if (schema.anyOf) {
    const literals = schema.anyOf.filter((s) => s.const !== undefined).map((s) => String(s.const))
    const others = schema.anyOf.filter((s) => s.const === undefined).map((s) => describeSchema(s))
    if (others.length === 0) return `one of ${literals.join(', ')}`
    return [...literals, ...others].join(' or ')
  }
  switch (schema.type) {
    case 'integer':
    case 'number':
      return `${schema.type === 'integer' ? 'an integer' : 'a number'}${range(schema)}`
    case 'string':
      if (schema.pattern !== undefined) return BY_PATTERN[schema.pattern] ?? `a string matching ${schema.pattern}`
      return schema.minLength ? 'a non-empty string' : 'a string'
    case 'boolean':
      return 'true or false'
    case 'null':
      return 'null'
    case 'array':
      return schema.minItems ? 'a non-empty list' : 'a list'
    case 'object':
      return 'a mapping'
    default:
      return 'a valid value'
  }
}

function range({ minimum, maximum }: SchemaNode): string {
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`
  if (minimum !== undefined) return ` >= ${minimum}`
  if (maximum !== undefined) return ` <= ${maximum}`
  return ''
}
