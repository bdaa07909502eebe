import type { TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import type { TLocalizedValidationError } from 'typebox/error'
import { Settings } from 'typebox/system'
import { ByteSize, ConfigFile, Duration, ModelConfig, quoted } from '../contract/index.js'
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
  // A missing key is placed at its parent mapping, which has a line in the file.
  const problems = problemsAgainst(ConfigFile, configValidator, value, { noun: 'key', requiredAt: 'parent', object: 'a mapping' })
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.expected === p.expected) === i)
}

/** How problems are worded: config files and recipes have keys and mappings, HTTP bodies fields and JSON objects. */
export interface ProblemStyle {
  noun: 'key' | 'field'
  /** Where a missing property is reported: at the object that lacks it, or at the property's own path. */
  requiredAt: 'parent' | 'key'
  object: string
}

/** Every problem TypeBox finds in `value` against `schema`, each phrased for a person, in TypeBox's order. */
export function problemsAgainst(schema: TSchema, validator: Validator, value: unknown, style: ProblemStyle): Problem[] {
  const errors = allErrors(validator, value)
  // A failed union also reports one error per branch: keep the union's own error, described as a whole.
  // `additionalProperties: false` also reports each extra key as a `boolean` error; its own error names them.
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath)
  return errors
    .filter((e) => e.keyword !== 'boolean' && !unions.some((u) => e.schemaPath.startsWith(`${u}/anyOf/`)))
    .flatMap((e) => toProblems(e, schema, value, style))
}

function allErrors(validator: Validator, value: unknown): TLocalizedValidationError[] {
  // TypeBox stops collecting at the global maxErrors (8 by default); every problem is wanted here. TypeBox
  // itself swaps this setting around its parse errors; Errors() is synchronous, so nothing else sees it.
  const previous = Settings.Get().maxErrors
  Settings.Set({ maxErrors: 1000 })
  try {
    return validator.Errors(value)
  } finally {
    Settings.Set({ maxErrors: previous })
  }
}

function toProblems(error: TLocalizedValidationError, root: TSchema, value: unknown, style: ProblemStyle): Problem[] {
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(root, error.schemaPath).properties ?? {}).join(', ')
      return error.params.additionalProperties.map((key) => ({
        path: joinPointer(error.instancePath, key),
        expected: `unknown ${style.noun} ${quoted(key, 64)} (allowed: ${allowed})`,
      }))
    }
    case 'required':
      return error.params.requiredProperties.map((key) => ({
        path: style.requiredAt === 'key' ? joinPointer(error.instancePath, key) : error.instancePath,
        expected: `missing required ${style.noun} "${key}"`,
      }))
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
      return [
        {
          path: error.instancePath,
          expected: lengthProblem(error.keyword, error.params.limit, valueAt(value, error.instancePath)),
        },
      ]
    default: {
      const schema = schemaAt(root, error.schemaPath)
      const expected = schema.type === 'object' ? style.object : describeSchema(schema, splitPointer(error.instancePath).at(-1))
      return [
        { path: error.instancePath, expected: `expected ${expected} (got ${describeValue(valueAt(value, error.instancePath))})` },
      ]
    }
  }
}

/**
 * A length bound names itself, and the length found rather than the value: the value may be a password, or a megabyte.
 * `expected at most 64 characters (got 65)`
 */
function lengthProblem(keyword: string, limit: number, value: unknown): string {
  const strings = keyword === 'minLength' || keyword === 'maxLength'
  const length = typeof value === 'string' || Array.isArray(value) ? value.length : 0
  if (keyword === 'minLength' && limit === 1) return 'expected a non-empty string (got "")'
  if (keyword === 'minItems' && limit === 1) return 'expected a non-empty list (got an empty list)'
  const unit = (n: number) => (strings ? (n === 1 ? 'character' : 'characters') : n === 1 ? 'item' : 'items')
  const bound = keyword.startsWith('min') ? 'at least' : 'at most'
  return `expected ${bound} ${limit} ${unit(limit)} (got ${length})`
}

interface SchemaNode {
  type?: string
  const?: unknown
  anyOf?: SchemaNode[]
  items?: SchemaNode
  properties?: Record<string, SchemaNode>
  pattern?: string
  enum?: unknown[]
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  description?: string
}

function schemaAt(root: TSchema, schemaPath: string): SchemaNode {
  let node: unknown = root
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

/** A Duration or ByteSize, also where a field gives it a description of its own (`server.headersTimeout`). */
function isShape(schema: SchemaNode, of: TSchema): boolean {
  const shape = of as SchemaNode
  return (
    schema.description === shape.description ||
    (schema.anyOf !== undefined && JSON.stringify(schema.anyOf) === JSON.stringify(shape.anyOf))
  )
}

/** A noun phrase for what the schema accepts: `a duration like 30s, 30m, 2h`, `one of llamacpp, vllm, openai`. */
export function describeSchema(schema: SchemaNode, key?: string): string {
  if (isShape(schema, Duration)) return 'a duration like 30s, 30m, 2h'
  if (isShape(schema, ByteSize)) return 'a size like 64MiB, 512KB, 1GiB'
  if (key !== undefined && key in BY_KEY) return BY_KEY[key]!
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  if (schema.enum) return `one of ${schema.enum.map((v) => String(v)).join(', ')}`
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
      if (schema.pattern !== undefined) {
        return BY_PATTERN[schema.pattern] ?? schema.description ?? `a string matching ${schema.pattern}`
      }
      return `a ${schema.minLength === 1 && schema.maxLength === undefined ? 'non-empty string' : `string${lengths(schema)}`}`
    case 'boolean':
      return 'true or false'
    case 'null':
      return 'null'
    case 'array':
      return schema.minItems === 1 && schema.maxItems === undefined ? 'a non-empty list' : `a list${items(schema)}`
    case 'object':
      return 'a mapping'
    default:
      return 'a valid value'
  }
}

function range({ minimum, maximum, exclusiveMinimum, exclusiveMaximum }: SchemaNode): string {
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`
  const low = minimum !== undefined ? ` >= ${minimum}` : exclusiveMinimum !== undefined ? ` > ${exclusiveMinimum}` : ''
  const high = maximum !== undefined ? ` <= ${maximum}` : exclusiveMaximum !== undefined ? ` < ${exclusiveMaximum}` : ''
  return low && high ? `${low} and${high}` : low || high
}

function items({ minItems = 0, maxItems }: SchemaNode): string {
  if (maxItems !== undefined) return minItems > 0 ? ` of ${minItems} to ${maxItems} items` : ` of at most ${maxItems} items`
  return minItems > 0 ? ` of at least ${minItems} items` : ''
}

/** ` of 1 to 64 characters`, ` of at least 12 characters`, or nothing. */
function lengths({ minLength = 0, maxLength }: SchemaNode): string {
  if (maxLength !== undefined)
    return minLength > 0 ? ` of ${minLength} to ${maxLength} characters` : ` of at most ${maxLength} characters`
  return minLength > 0 ? ` of at least ${minLength} characters` : ''
}
