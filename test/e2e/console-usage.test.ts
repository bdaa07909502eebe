import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations, browserMissing, pageErrors, screenshot } from '../support/browser.js'
import { startConsoleWorld, tinyModelConfig, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/** Issue 11's usage screen in Chromium against a real `cortex serve`: requests made with a key show up, and export. */

const missing = browserMissing()
let world: ConsoleWorld
/** Tokens in and out of the three requests, as the engine reported them. */
const made = { prompt: 0, completion: 0 }

beforeAll(async () => {
  if (missing) return
  world = await startConsoleWorld('usage', { config: tinyModelConfig(inject('llamaServer'), inject('tinyModel')) })
  const res = await world.admin('POST', '/admin/api/keys', { name: 'u' })
  if (res.status !== 201) throw new Error(`POST /admin/api/keys: ${res.status} ${await res.text()}`)
  const { key } = (await res.json()) as { key: string }
  for (let i = 0; i < 3; i++) {
    const answer = await fetch(`${world.cortex.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', max_tokens: 4, messages: [{ role: 'user', content: `Say hello ${i}` }] }),
    })
    if (answer.status !== 200) throw new Error(`chat completion ${i}: ${answer.status} ${await answer.text()}`)
    const { usage } = (await answer.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }
    made.prompt += usage.prompt_tokens
    made.completion += usage.completion_tokens
  }
}, 180_000)

afterAll(async () => {
  await world?.close()
})

const count = (n: number) => n.toLocaleString('en-US')

describe.skipIf(missing !== null)(`console usage in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('shows the three requests just made for model tiny with their tokens, as a chart and a table', async () => {
    const { page, errors } = await world.openAsAdmin('/usage')
    const row = page.locator('[data-testid="usage-row"][data-key="tiny"]')
    await row.waitFor()
    expect(await row.getByTestId('usage-name').textContent()).toBe('tiny')
    expect(await row.getByTestId('usage-requests').textContent()).toBe('3')
    expect(await row.getByTestId('usage-tokens-in').textContent()).toBe(count(made.prompt))
    expect(await row.getByTestId('usage-tokens-out').textContent()).toBe(count(made.completion))
    expect(await page.getByTestId('usage-total').getByTestId('usage-requests').textContent()).toBe('3')
    await page.getByTestId('usage-chart').locator('canvas').waitFor()
    expect(await page.getByTestId('usage-chart').getAttribute('data-points')).toBe('1')
    await screenshot(page, 'usage')
    expect(await axeViolations(page)).toEqual([])

    await page.getByTestId('group-day').click()
    await expect.poll(() => page.getByTestId('group-day').getAttribute('aria-pressed')).toBe('true')
    await expect.poll(() => page.getByTestId('usage-table').locator('thead th').first().textContent()).toBe('Day')
    expect(await page.getByTestId('usage-total').getByTestId('usage-requests').textContent()).toBe('3')
    expect(page.url()).toContain('groupBy=day')
    await page.getByTestId('range-30d').click()
    await expect.poll(() => page.getByTestId('usage-chart').getAttribute('data-points')).toMatch(/^3[01]$/)
    expect(await page.getByTestId('usage-total').getByTestId('usage-requests').textContent()).toBe('3')
    await screenshot(page, 'usage-by-day')
    expect(unexpected(errors)).toEqual([])
  })

  it('the CSV link downloads those rows', async () => {
    const { page, errors } = await world.openAsAdmin('/usage')
    await page.locator('[data-testid="usage-row"][data-key="tiny"]').waitFor()
    const download = page.waitForEvent('download')
    await page.getByTestId('usage-csv').click()
    const file = await (await download).path()
    const lines = readFileSync(file, 'utf8').trim().split('\r\n')
    expect(lines[0]).toMatch(/^model,name,requests,errors,errorRate,promptTokens,completionTokens,/)
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3))).toEqual([['tiny', 'tiny', '3']])
    expect(lines[1]!.split(',').slice(5, 7)).toEqual([String(made.prompt), String(made.completion)])
    expect(unexpected(errors)).toEqual([])
  })

  it('an empty range says so plainly; narrow and dark still read', async () => {
    const context = await world.browser.newContext({ colorScheme: 'dark', viewport: { width: 800, height: 900 } })
    const res = await world.admin('POST', '/admin/api/auth/codes')
    const { code } = (await res.json()) as { code: string }
    const page = await context.newPage()
    const errors = pageErrors(page)
    await page.goto(new URL(`/?code=${encodeURIComponent(code)}`, world.cortex.url).href)
    await page.getByTestId('user').waitFor()
    await page.goto(new URL('/usage?range=custom&from=2020-01-01&to=2020-01-31', world.cortex.url).href)
    await page.getByTestId('state-empty').waitFor()
    expect(await page.getByTestId('state-empty').locator('.state-title').textContent()).toBe('No requests in this range')
    await screenshot(page, 'usage-empty-narrow-dark')
    await page.getByTestId('range-24h').click()
    await page.locator('[data-testid="usage-row"][data-key="tiny"]').waitFor()
    const overflow = 'document.documentElement.scrollWidth - document.documentElement.clientWidth'
    expect(await page.evaluate(overflow)).toBe(0)
    await screenshot(page, 'usage-narrow-dark')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
    await context.close()
  })
})
