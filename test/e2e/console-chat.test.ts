import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { ChatDetail } from '../../gateway/contract/index.js'
import { axeViolations, browserMissing, screenshot } from '../support/browser.js'
import { startConsoleWorld, tinyModelConfig, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/** Issue 12's playground in Chromium against a real `cortex serve` and the real llama-server (the model starts stopped). */

const missing = browserMissing()
const XSS = '<img src=x onerror="window.__cortexXss=1"><script>window.__cortexXss=2</script>'
let world: ConsoleWorld

beforeAll(async () => {
  if (missing) return
  world = await startConsoleWorld('chat', { config: tinyModelConfig(inject('llamaServer'), inject('tinyModel')) })
}, 180_000)

afterAll(async () => {
  await world?.close()
})

describe.skipIf(missing !== null)(`console chat in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('sends to a stopped model, which starts; the answer streams in with the gateway’s figures, and is kept', async () => {
    const { page, errors } = await world.openAsAdmin('/chat')
    await page.getByTestId('chat-model').selectOption('tiny')
    await page.getByTestId('new-chat').click()
    await page.waitForURL(/\/chat\/[\w-]+$/)
    await page.getByTestId('composer').fill(XSS)
    await page.getByTestId('send').click()
    const answer = page.getByTestId('message-assistant').last()
    await expect.poll(() => answer.getAttribute('data-state'), { timeout: 90_000 }).toBe('complete')
    expect(await answer.getByTestId('figures').textContent()).toMatch(
      /first token [\d.]+ (ms|s) · [\d.]+ tok\/s · \d+ in · \d+ out/,
    )
    // What a person (or a model) writes is text: the markup shows, and nothing in it ran.
    expect(await page.getByTestId('message-user').getByTestId('message-text').textContent()).toBe(XSS)
    expect(await page.evaluate(() => (globalThis as unknown as { __cortexXss?: number }).__cortexXss)).toBeUndefined()
    await screenshot(page, 'chat')
    expect(await axeViolations(page)).toEqual([])

    // The server kept it: a reload, and another browser of the same user, show the same conversation.
    const id = page.url().split('/').pop()!
    const saved = (await (await world.admin('GET', `/admin/api/chats/${id}`)).json()) as ChatDetail
    const figures = saved.messages.at(-1)!.figures!
    expect(figures.completionTokens).toBeGreaterThan(0)
    const other = await world.openAsAdmin(`/chat/${id}`)
    await expect.poll(() => other.page.getByTestId('message-assistant').count()).toBe(1)
    expect(await other.page.getByTestId('figures').textContent()).toContain(`${figures.completionTokens} out`)
    expect(unexpected(errors)).toEqual([])
  })
})
