import { describe, expect, it } from 'vitest'
import { CortexError } from '../contract/errors.js'
import { readRequest, scanObject } from './body.js'
import { mulberry32 } from '../../test/support/random.js'
import { randomBody } from './json-fuzz.test-support.js'

function read(text: string) {
  return readRequest(Buffer.from(text))
}

function errorOf(text: string): CortexError {
  try {
    read(text)
  } catch (err) {
    if (err instanceof CortexError) return err
    throw err
  }
  throw new Error(`accepted: ${text}`)
}

const CAPS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const

/** A list of strings or of token lists is a batch of prompts; anything else is one. */
const batch = (prompt: unknown) =>
  Array.isArray(prompt) && (typeof prompt[0] === 'string' || Array.isArray(prompt[0])) ? prompt.length : 1

/** The routing fields as JSON.parse sees them, or the field a request is refused for. */
function expected(obj: Record<string, unknown>) {
  const caps = CAPS.map((name) => [name, obj[name]] as const).filter(([, v]) => v != null)
  const wrong = caps.find(([, v]) => typeof v !== 'number' || !Number.isFinite(v))
  if (wrong !== undefined) return { refused: wrong[0] }
  const uncapped = caps.some(([, v]) => (v as number) < 0)
  const cap = caps.length === 0 || uncapped ? null : Math.max(...caps.map(([, v]) => Math.ceil(v as number)))
  return {
    model: obj.model,
    stream: obj.stream,
    streamOptions: obj.stream_options,
    output: { cap, n: 1 },
    prompts: batch(obj.prompt),
    has: { messages: obj.messages != null, prompt: obj.prompt != null, input: obj.input != null },
  }
}

function actual(text: string) {
  try {
    const { scan: _scan, ...fields } = read(text)
    return fields
  } catch (err) {
    if (err instanceof CortexError && err.code === 'invalid_request') return { refused: err.details?.param }
    throw err
  }
}

describe('readRequest', () => {
  it.each([
    ['{"model":"qwen","messages":[]}', { model: 'qwen', has: { messages: true, prompt: false, input: false } }],
    ['  {\n\t"model" : "q" ,\r\n "stream" : true }  \n', { model: 'q', stream: true }],
    ['{"messages":[{"role":"user","content":"say \\"model\\": \\"x\\" {["}],"model":"real"}', { model: 'real' }],
    ['{"mod\\u0065l":"escaped-key"}', { model: 'escaped-key' }],
    [
      '{"model":"qw\\u00e9n \\ud83d\\ude00","prompt":"日本語 😀"}',
      { model: 'qwén 😀', has: { messages: false, prompt: true, input: false } },
    ],
    ['{"prompt":"ends in backslash \\\\","model":"m"}', { model: 'm' }],
    ['{"input":null,"model":"m"}', { has: { messages: false, prompt: false, input: false } }],
    [
      '{"stream_options":{"include_usage":true},"max_tokens":16,"max_completion_tokens":1e3}',
      { streamOptions: { include_usage: true }, output: { cap: 1000, n: 1 } },
    ],
    ['{"model":{"nested":["x"]},"stream":"true"}', { model: { nested: ['x'] }, stream: 'true' }],
    ['{}', { model: undefined }],
    ['{"model":"m","prompt":["a","b\\"c",""]}', { prompts: 3 }],
    ['{"model":"m","prompt":[[1,2],[3], [4, 5]]}', { prompts: 3 }],
    ['{"model":"m","prompt":[1,2,3]}', { prompts: 1 }],
    ['{"model":"m","prompt":[]}', { prompts: 1 }],
    ['{"model":"m","prompt":"[\\"a\\",\\"b\\"]"}', { prompts: 1 }],
  ])('reads %s', (text, fields) => {
    expect(actual(text)).toMatchObject(fields)
    expect(actual(text)).toEqual(expected(JSON.parse(text)))
  })

  it.each([
    '',
    ' ',
    '{',
    '{"model":"m"',
    '{"model":"m}',
    '{"model" "m"}',
    '{"model":"m",}',
    '{"model":"m"} x',
    '{"model":"m"}{}',
    '{model:"m"}',
    '{"a":[1,2}',
    '{"a":{"b":[}]}',
    '{"a":tru,"model":"m"}',
    '{"stream":tru}',
    '{"a":"\\"}',
    '{"a":hello}',
    "{'model':'m'}",
    '{"a":1 2}',
  ])('answers invalid_json to %j', (text) => {
    const err = errorOf(text)
    expect(err.code).toBe('invalid_json')
    expect(err.status).toBe(400)
  })

  it.each(['[]', '"model"', '42', 'null'])('answers invalid_request to the non-object %s', (text) => {
    expect(errorOf(text).code).toBe('invalid_request')
  })

  it.each([
    ['{"model":"a","model":"b"}', 'model'],
    ['{"model":"a","messages":[],"stream":true,"stream":false}', 'stream'],
    ['{"max_tokens":1,"model":"a","max_tokens":100000}', 'max_tokens'],
    ['{"model":"a","mod\\u0065l":"b"}', 'model'],
  ])('refuses %s, which repeats a routing field, naming it', (text, param) => {
    const err = errorOf(text)
    expect(err.code).toBe('duplicate_member')
    expect(err.details?.param).toBe(param)
  })

  it.each([
    ['{"model":"m","max_tokens":"200"}', 'max_tokens'],
    ['{"model":"m","max_completion_tokens":true}', 'max_completion_tokens'],
    ['{"model":"m","max_output_tokens":[5]}', 'max_output_tokens'],
    ['{"model":"m","max_tokens":1e999}', 'max_tokens'],
    ['{"model":"m","n":"2"}', 'n'],
    ['{"model":"m","n":0}', 'n'],
    ['{"model":"m","n":1.5}', 'n'],
    ['{"model":"m","best_of":"4"}', 'best_of'],
    ['{"model":"m","best_of":0}', 'best_of'],
  ])('refuses %s, an output cap or n of the wrong type, naming it', (text, param) => {
    const err = errorOf(text)
    expect(err.code).toBe('invalid_request')
    expect(err.details?.param).toBe(param)
  })

  it('reads the largest output the request allows: the largest cap, times n; none when a cap is negative', () => {
    expect(read('{"max_tokens":10,"max_completion_tokens":300,"max_output_tokens":20,"n":3}').output).toEqual({ cap: 300, n: 3 })
    expect(read('{"max_tokens":10.2}').output).toEqual({ cap: 11, n: 1 })
    expect(read('{"max_tokens":-1,"max_completion_tokens":5}').output).toEqual({ cap: null, n: 1 })
    expect(read('{"model":"m"}').output).toEqual({ cap: null, n: 1 })
    // best_of: the engine generates that many choices and returns n of them.
    expect(read('{"max_tokens":50,"n":2,"best_of":5}').output).toEqual({ cap: 50, n: 5 })
    expect(read('{"max_tokens":50,"n":3,"best_of":1}').output).toEqual({ cap: 50, n: 3 })
  })

  it('leaves the inside of nested values and unread strings to the engine', () => {
    expect(read('{"messages":[tru, 1.2.3],"model":"m"}').model).toBe('m')
    expect(read('{"prompt":"\\x","model":"m"}').model).toBe('m')
    expect(errorOf('{"model":"\\x"}').code).toBe('invalid_json')
  })

  it('equals JSON.parse on the routing fields of 3000 random bodies', () => {
    const next = mulberry32(20240601)
    for (let n = 0; n < 3000; n++) {
      const text = randomBody(next)
      expect(actual(text), text).toEqual(expected(JSON.parse(text)))
    }
  })

  it('rejects every strict prefix of random bodies', () => {
    const next = mulberry32(7)
    for (let n = 0; n < 200; n++) {
      const text = randomBody(next)
      const cut = 1 + Math.floor(next() * (text.trimEnd().length - 1))
      const prefix = text.slice(0, cut)
      expect(() => JSON.parse(prefix)).toThrow()
      expect(errorOf(prefix).code, prefix).toBe('invalid_json')
    }
  })

  it('finds keys after a 1 MB prompt dense with escaped quotes', () => {
    const text = JSON.stringify({ messages: [{ role: 'user', content: 'x\\"y'.repeat(250_000) }], model: 'm', stream: true })
    expect(actual(text)).toEqual(expected(JSON.parse(text)))
  })
})

describe('scanObject', () => {
  it('gives value spans of the wanted keys only', () => {
    const buf = Buffer.from('{"a": [1, {"b": 2}] , "b":"x"}')
    const scan = scanObject(buf, new Set(['a']))!
    expect(scan.empty).toBe(false)
    expect([...scan.members.keys()]).toEqual(['a'])
    const a = scan.members.get('a')!
    expect(buf.toString('utf8', a.start, a.end)).toBe('[1, {"b": 2}]')
  })
})
