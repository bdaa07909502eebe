import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { Value } from 'typebox/value'
import { displayPath } from '../../config/issues.js'
import { problemsAgainst } from '../../config/schema.js'
import { CortexError } from '../../contract/errors.js'

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
  const [first] = problemsAgainst(schema, validator, value, { noun: 'field', requiredAt: 'key', object: 'a JSON object' })
  const where = part === 'body' ? 'request body' : part
  if (first === undefined) return new CortexError('invalid_request', `${where} is not valid`)
  const param = displayPath(first.path) || null
  return new CortexError('invalid_request', `${param ?? where}: ${first.expected}`, param === null ? {} : { param })
}
