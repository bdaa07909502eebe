import { describe, expect, it } from 'vitest'
import { readRequest } from './body.js'
import { mulberry32 } from '../../test/support/random.js'
import { randomBody } from './json-fuzz.test-support.js'
import { applyEdits, upstreamBody } from './rewrite.js'

function rewrite(text: string, opts: { requestUsage: boolean; upstreamModel?: string }) {
  const raw = Buffer.from(text)
  const out = upstreamBody(raw, readRequest(raw), opts)
  return { text: out.body.toString(), hideUsage: out.hideUsage, same: out.body === raw }
}

function refused(text: string): boolean {
  try {
    readRequest(Buffer.from(text))
    return false
  } catch {
    return true
  }
}

/** What the engine must receive, computed on the parsed object. */
function expected(obj: Record<string, unknown>, opts: { requestUsage: boolean; upstreamModel?: string }) {
  const out = { ...obj }
  const so = obj.stream_options
  const asked =
    typeof so === 'object' && so !== null && !Array.isArray(so) && (so as Record<string, unknown>).include_usage === true
  const canSet = so === undefined || so === null || (typeof so === 'object' && !Array.isArray(so))
  const hideUsage = opts.requestUsage && obj.stream === true && !asked && canSet
  if (hideUsage) out.stream_options = { ...(so as object), include_usage: true }
  if (opts.upstreamModel !== undefined && obj.model !== undefined) out.model = opts.upstreamModel
  return { obj: out, hideUsage }
}

describe('upstreamBody', () => {
  it('forwards the very same buffer when nothing changes', () => {
    expect(rewrite('{"model":"m","stream":false,"messages":[]}', { requestUsage: true }).same).toBe(true)
    expect(rewrite('{"model":"m","stream":true,"stream_options":{"include_usage":true}}', { requestUsage: true })).toMatchObject({
      same: true,
      hideUsage: false,
    })
    expect(rewrite('{"model":"m","stream":true}', { requestUsage: false }).same).toBe(true)
  })

  it.each([
    ['{"model":"m","stream":true}', '{"stream_options":{"include_usage":true},"model":"m","stream":true}'],
    [' {\n "stream" : true }', ' {"stream_options":{"include_usage":true},\n "stream" : true }'],
    ['{"stream":true,"stream_options":null}', '{"stream":true,"stream_options":{"include_usage":true}}'],
    [
      '{"stream":true,"stream_options": {"include_usage":false,"continuous_usage_stats":true} ,"x":1}',
      '{"stream":true,"stream_options": {"include_usage":true,"continuous_usage_stats":true} ,"x":1}',
    ],
  ])('splices include_usage into %s', (input, output) => {
    expect(rewrite(input, { requestUsage: true })).toEqual({ text: output, hideUsage: true, same: false })
  })

  it('leaves a stream_options of the wrong type for the engine to reject', () => {
    expect(rewrite('{"stream":true,"stream_options":"yes"}', { requestUsage: true })).toMatchObject({
      same: true,
      hideUsage: false,
    })
  })

  it("replaces only the model's value span for a remote upstreamModel", () => {
    const out = rewrite('{"messages":[{"content":"\\"model\\":\\"m\\""}], "model" : "m","stream":true}', {
      requestUsage: true,
      upstreamModel: 'Qwen/Qwen2.5-72B',
    })
    expect(out.text).toBe(
      '{"stream_options":{"include_usage":true},"messages":[{"content":"\\"model\\":\\"m\\""}], "model" : "Qwen/Qwen2.5-72B","stream":true}',
    )
  })

  it('parses to the original object plus the change for 3000 random bodies', () => {
    const next = mulberry32(424242)
    for (let n = 0; n < 3000; n++) {
      const text = randomBody(next)
      // A body refused at admission (an output cap of the wrong type) is never rewritten.
      if (refused(text)) continue
      const opts = next() < 0.5 ? { requestUsage: true } : { requestUsage: next() < 0.5, upstreamModel: 'up/"stream"' }
      const out = rewrite(text, opts)
      const want = expected(JSON.parse(text), opts)
      expect(JSON.parse(out.text), text).toEqual(want.obj)
      expect(out.hideUsage, text).toBe(want.hideUsage)
    }
  })
})

describe('applyEdits', () => {
  it('applies insertions and replacements in offset order', () => {
    const buf = Buffer.from('0123456789')
    const edits = [
      { span: { start: 8, end: 10 }, text: 'xy' },
      { span: { start: 0, end: 0 }, text: '<' },
      { span: { start: 3, end: 5 }, text: '' },
    ]
    expect(applyEdits(buf, edits).toString()).toBe('<012567xy')
  })
})
