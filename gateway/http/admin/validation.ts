import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import type { TLocalizedValidationError } from 'typebox/error'
import { Settings } from 'typebox/system'
import { Value } from 'typebox/value'
import { describeValue, displayPath, joinPointer, splitPointer, valueAt } from '../../config/issues.js'
import { describeSchema } from '../../config/schema.js'
import { CortexError } from '../../contract/errors.js'

type SchemaNode = Parameters<typeof describeSchema>[0]

/**
 * Validates with TypeBox rather than Fastify's default Ajv, which would silently drop unknown keys and coerce
 * `"2"` into `2` in bodies. Query strings are text, so `?wait=true` is converted first. The first problem becomes
 * `invalid_request` with `param` at the field, phrased like the config file's errors.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema)
  return (value) => {
    const converted = httpPart === 'body' ? value : Value.Convert(schema, value)
    if (validator.Check(converted)) return { value: converted }
    return { error: firstProblem(schema, validator, converted, httpPart ?? 'body') }
  }
}

function firstProblem(schema: TSchema, validator: Validator, value: unknown, part: string): CortexError {
  const errors = allErrors(validator, value)
  // A failed union also reports one error per branch: describe the union as a whole instead.
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath)
  const first = errors.find(
    // `additionalProperties: false` also reports each extra key as a `boolean` error; its own error names them.
    (e) => e.keyword !== 'boolean' && !unions.some((u) => e.schemaPath.startsWith(`${u}/anyOf/`)),
  )
  const where = part === 'body' ? 'request body' : part
  if (first === undefined) return new CortexError('invalid_request', `${where} is not valid`)
  const problem = describe(first, schema, value)
  const param = displayPath(problem.pointer) || null
  return new CortexError('invalid_request', `${param ?? where}: ${problem.expected}`, param === null ? {} : { param })
}

function describe(error: TLocalizedValidationError, root: TSchema, value: unknown): { pointer: string; expected: string } {
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = error.params.additionalProperties[0]!
      const allowed = Object.keys(schemaAt(root, error.schemaPath).properties ?? {}).join(', ')
      return { pointer: joinPointer(error.instancePath, key), expected: `unknown field "${key}" (allowed: ${allowed})` }
    }
    case 'required': {
      const key = error.params.requiredProperties[0]!
      return { pointer: joinPointer(error.instancePath, key), expected: `missing required field "${key}"` }
    }
    default: {
      const schema = schemaAt(root, error.schemaPath)
      const expected =
        schema.type === 'object' ? 'a JSON object' : describeSchema(schema, splitPointer(error.instancePath).at(-1))
      return {
        pointer: error.instancePath,
        expected: `expected ${expected} (got ${describeValue(valueAt(value, error.instancePath))})`,
      }
    }
  }
}

function allErrors(validator: Validator, value: unknown): TLocalizedValidationError[] {
  // TypeBox stops at the global maxErrors (8): a union's own error, reported after its branches', could be cut
  // off. Errors() is synchronous, so nothing else sees the raised limit (config/schema.ts does the same).
  const previous = Settings.Get().maxErrors
  Settings.Set({ maxErrors: 1000 })
  try {
    return validator.Errors(value)
  } finally {
    Settings.Set({ maxErrors: previous })
  }
}

function schemaAt(root: TSchema, schemaPath: string): SchemaNode & { properties?: Record<string, unknown> } {
  let node: unknown = root
  for (const segment of splitPointer(schemaPath.replace(/^#/, ''))) node = (node as Record<string, unknown>)[segment]
  return node as SchemaNode & { properties?: Record<string, unknown> }
}
