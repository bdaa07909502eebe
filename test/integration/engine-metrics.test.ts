import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseExposition, valueOf } from '../../gateway/metrics/exposition.test-support.js'
import { parseFamilies, scrapeEngines } from '../../gateway/metrics/engines.js'
import { modelStatus } from '../../gateway/metrics/fakes.test-support.js'
import { startLlamaServer, type LlamaServer } from '../support/substrate.js'

let engine: LlamaServer
beforeAll(async () => {
  engine = await startLlamaServer(inject('llamaServer'), inject('tinyModel'), ['-c', '512', '-np', '1', '--metrics'])
})
afterAll(() => engine?.stop())

describe('scrapeEngines on a real llama-server --metrics', () => {
  it('re-exposes its llamacpp:* series with the model and replica, counting the tokens of a completion', async () => {
    const res = await fetch(`${engine.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hello world', max_tokens: 4 }),
    })
    expect(res.status).toBe(200)
    const { usage } = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }

    const text = await scrapeEngines([modelStatus('tiny', 'running', [{ url: engine.url }])])
    const s = parseExposition(text)
    const labels = { model: 'tiny', replica: '0' }
    expect(valueOf(s, 'cortex_engine_scrape_up', labels)).toBe(1)
    expect(valueOf(s, 'llamacpp:prompt_tokens_total', labels)).toBe(usage.prompt_tokens)
    expect(valueOf(s, 'llamacpp:tokens_predicted_total', labels)).toBe(usage.completion_tokens)
    expect(usage.prompt_tokens).toBeGreaterThan(0)
    expect(valueOf(s, 'llamacpp:requests_processing', labels)).toBe(0)
    expect(parseFamilies(text).find((f) => f.name === 'llamacpp:tokens_predicted_total')?.type).toBe('counter')
    for (const x of s) expect(x.labels, x.name).toMatchObject(labels)
  })
})
