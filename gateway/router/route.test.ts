import { describe, expect, it } from 'vitest'
import { keyRecord } from '../auth/keys.test-support.js'
import type { ModelDefinition } from '../contract/model.js'
import { modelAllowed, route, type ModelTable } from './route.js'

const model = (name: string, aliases: string[] = []) => ({ name, aliases }) as ModelDefinition
const table = (...models: ModelDefinition[]): ModelTable => ({
  resolve: (wanted) => models.find((m) => m.name === wanted || m.aliases.includes(wanted)),
  all: () => models,
})
const qwen = model('qwen2.5-7b', ['qwen'])
const llama = model('llama')

describe('route', () => {
  it('resolves a name or an alias to the model it names', () => {
    expect(route({ model: 'qwen' }, null, table(qwen, llama))).toEqual({ candidates: [qwen] })
    expect(route({ model: 'llama' }, null, table(qwen, llama))).toEqual({ candidates: [llama] })
  })

  it('refuses an unknown model with the list of the models the key may use, and only those', () => {
    const key = keyRecord({ models: ['llama'] })
    const { refusal } = route({ model: 'gpt-4' }, key, table(qwen, llama))
    expect(refusal?.code).toBe('model_not_found')
    expect(refusal?.message).toBe('model "gpt-4" does not exist; available models: llama')
  })

  it('cuts a long name where the message repeats it', () => {
    const { refusal } = route({ model: 'x'.repeat(1_000_000) }, null, table(llama))
    expect(refusal?.message.length).toBeLessThan(400)
  })

  it('refuses a model the key may not use, naming the ones it may', () => {
    const { refusal } = route({ model: 'qwen' }, keyRecord({ name: 'ci', models: ['llama'] }), table(qwen, llama))
    expect(refusal?.code).toBe('model_not_allowed')
    expect(refusal?.message).toBe('the API key "ci" may not use model "qwen"; it may use: llama')
  })
})

describe('modelAllowed', () => {
  it('allows a model by its name or any of its aliases', () => {
    const byAlias = keyRecord({ models: ['qwen'] })
    expect(modelAllowed(byAlias, qwen)).toBe(true)
    expect(modelAllowed(byAlias, llama)).toBe(false)
    expect(modelAllowed(null, llama)).toBe(true)
  })
})
