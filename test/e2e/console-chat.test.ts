import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { ChatDetail, ModelView } from '../../gateway/contract/index.js'
import { formatCount, formatDuration, formatRate } from '../../renderer/src/units.js'
import { axeViolations, browserMissing, screenshot } from '../support/browser.js'
import { startConsoleWorld, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/**
 * Issue 12's playground in Chromium against a real `cortex serve`: the real llama-server with the tiny model (it starts
 * stopped; one thread, one slot, so an answer of 1500 tokens lasts long enough to stop or leave), and a stand-in
 * OpenAI-compatible model whose answer carries an XSS payload in Markdown.
 */

const missing = browserMissing()
const PASSWORD = 'chat e2e member password'
/** What the stand-in answers, in pieces: Markdown with markup and a script link that must stay inert. */
const STANDIN_ANSWER = [
  'Here is **bold**, a [bad link](javascript:globalThis.__cortexXss=3) and a [good one](https://example.com/).\n\n',
  '<img src=x onerror="globalThis.__cortexXss=1"><script>globalThis.__cortexXss=2</script>\n\n',
  "```js\nconst a = '<b>'\n```\n",
]
let world: ConsoleWorld
let standin: Server

/** A remote model: `GET /v1/models` for its health, and each chat completion streamed as the answer above. */
function startStandin(): Promise<string> {
  standin = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify({ object: 'list', data: [{ id: 'standin', object: 'model' }] }))
    }
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'text/event-stream')
      const chunk = (delta: object, usage: object | null = null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'standin', choices: usage ? [] : [{ index: 0, delta }], ...(usage && { usage }) })}\n\n`
      let i = 0
      const next = () => {
        if (i < STANDIN_ANSWER.length) {
          res.write(chunk({ content: STANDIN_ANSWER[i++] }))
          setTimeout(next, 50)
        } else {
          res.write(chunk({}, { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52 }))
          res.end('data: [DONE]\n\n')
        }
      }
      next()
    })
  })
  return new Promise((resolve) =>
    standin.listen(0, '127.0.0.1', () => {
      const a = standin.address()
      resolve(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`)
    }),
  )
}

beforeAll(async () => {
  if (missing) return
  const url = await startStandin()
  world = await startConsoleWorld('chat', {
    config: `
engines:
  llamaServer: ${JSON.stringify(inject('llamaServer'))}
models:
  - name: tiny
    engine: llamacpp
    runtime: process
    source: ${JSON.stringify(inject('tinyModel'))}
    args: ["-c", "2048", "-np", "1", "-t", "1"]
  - { name: standin, engine: openai, runtime: remote, baseUrl: "${url}/v1" }
`,
  })
}, 180_000)

afterAll(async () => {
  await world?.close()
  standin?.close()
})

interface UsageRow {
  user: string
  status: number
  ttft_ms: number
  total_ms: number
  prompt_tokens: number
  completion_tokens: number
}
const usageRow = (requestId: string) => {
  const db = new Database(path.join(world.dataDir, 'cortex.db'), { readonly: true })
  try {
    return db.prepare('SELECT * FROM usage WHERE request_id = ?').get(requestId) as UsageRow
  } finally {
    db.close()
  }
}
const savedChat = async (id: string) => (await (await world.admin('GET', `/admin/api/chats/${id}`)).json()) as ChatDetail
const slotsBusy = async () => {
  const { data } = (await (await world.admin('GET', '/admin/api/models')).json()) as { data: ModelView[] }
  const url = data.find((m) => m.name === 'tiny')!.status.replicas[0]!.url!
  const slots = (await (await fetch(`${url}/slots`)).json()) as Array<{ is_processing: boolean }>
  return slots.some((s) => s.is_processing)
}
/** A conversation of the built-in admin (the console session of `openAsAdmin` is that user too), made on the API. */
async function newChat(params: object): Promise<string> {
  const res = await world.admin('POST', '/admin/api/chats', { model: 'tiny', params })
  expect(res.status).toBe(201)
  return ((await res.json()) as { id: string }).id
}
const lastAnswer = (page: Page) => page.getByTestId('message-assistant').last()
/** Sends `text` and waits until the answer has streamed some text in. */
async function sendAndSeeTokens(page: Page, text: string) {
  await page.getByTestId('composer').fill(text)
  await page.getByTestId('send').click()
  await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 60_000 }).toBe('streaming')
  await expect
    .poll(async () => (await lastAnswer(page).getByTestId('message-text').textContent())!.length, { timeout: 15_000 })
    .toBeGreaterThan(0)
}

let chatId = ''
let word = ''

describe.skipIf(missing !== null)(`console chat in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('an admin picks the stopped model: it starts with its progress shown; the answer streams in; its figures are its usage row’s', async () => {
    const { page, errors } = await world.openAsAdmin('/chat')
    await page.getByTestId('chat-model').selectOption('standin')
    const progress = page.getByTestId('model-starting').filter({ hasText: 'tiny' }).waitFor({ timeout: 60_000 })
    await page.getByTestId('chat-model').selectOption('tiny')
    await progress
    await expect.poll(() => page.getByTestId('model-starting').count(), { timeout: 90_000 }).toBe(0)
    await page.getByTestId('new-chat').click()
    await page.waitForURL(/\/chat\/[\w-]+$/)
    chatId = page.url().split('/').pop()!

    // Parameters: long answers (the tiny model never stops on its own) and a fixed seed.
    await page.getByTestId('params-open').click()
    await page.getByTestId('param-max_tokens').fill('1500')
    await page.getByTestId('param-seed').fill('1')
    await page.getByTestId('param-system').fill('You are a storyteller.')
    await screenshot(page, 'chat-params')
    await page.getByTestId('params-save').click()
    await page.getByTestId('chat-params').waitFor({ state: 'detached' })
    expect((await savedChat(chatId)).params).toEqual({ system: 'You are a storyteller.', max_tokens: 1500, seed: 1 })

    await sendAndSeeTokens(page, 'Tell me a story about a lighthouse')
    const early = (await lastAnswer(page).getByTestId('message-text').textContent())!.length
    await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 90_000 }).toBe('complete')
    expect((await lastAnswer(page).getByTestId('message-text').textContent())!.length).toBeGreaterThan(early)

    const answer = (await savedChat(chatId)).messages.at(-1)!
    const row = usageRow(answer.requestId!)
    expect(row).toMatchObject({ user: 'admin', status: 200, completion_tokens: 1500 })
    const rate = (row.completion_tokens * 1000) / (row.total_ms - row.ttft_ms)
    expect(await lastAnswer(page).getByTestId('figures').textContent()).toBe(
      `first token ${formatDuration(row.ttft_ms)} · ${formatRate(rate)} · ${formatCount(row.prompt_tokens)} in · ${formatCount(row.completion_tokens)} out`,
    )
    expect(await page.getByTestId('chat-title').textContent()).toBe('Tell me a story about a lighthouse')
    expect(await page.getByTestId('context-use').textContent()).toMatch(/^[\d,]+ of 2,048 tokens$/)
    // A whole token as SQLite's full-text index cuts them (runs of letters and digits).
    word = answer.content.split(/[^A-Za-z0-9]+/).find((t) => t.length >= 4)!
    await screenshot(page, 'chat')
    expect(await axeViolations(page)).toEqual([])

    // Export: the Markdown file has the title, the system prompt and the answer's figures.
    const download = page.waitForEvent('download')
    await page.getByTestId('export-md').click()
    const md = readFileSync((await (await download).path())!, 'utf8')
    expect(md).toContain('# Tell me a story about a lighthouse\n')
    expect(md).toContain('## System\n\nYou are a storyteller.')
    expect(md).toContain(`1500 completion tokens`)
    expect(unexpected(errors)).toEqual([])
  }, 240_000)

  it('Stop mid-answer: the engine’s slot is idle again before the next send, and the partial answer is kept, cut off', async () => {
    // Each of these conversations has one answer: 1900 tokens and the question fill most of the 2048-token context.
    const id = await newChat({ max_tokens: 1900 })
    const { page, errors } = await world.openAsAdmin(`/chat/${id}`)
    await sendAndSeeTokens(page, 'Once upon a time')
    // At once: the whole answer takes a few seconds. It ends cut off only if it was still being written.
    await page.getByTestId('stop-answer').click()
    await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('cut_off')
    await expect.poll(slotsBusy, { timeout: 10_000 }).toBe(false)
    const partial = (await savedChat(id)).messages.at(-1)!
    expect(partial.state).toBe('cut_off')
    expect(partial.content.length).toBeGreaterThan(0)
    expect(await lastAnswer(page).getByTestId('cut-off').textContent()).toMatch(/^Cut off/)
    await page.reload()
    await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 15_000 }).toBe('cut_off')
    expect(unexpected(errors)).toEqual([])
  }, 120_000)

  it('closing the page mid-answer: the answer completes at the server and is there in full when reopened', async () => {
    const id = await newChat({ max_tokens: 1900 })
    const { page } = await world.openAsAdmin(`/chat/${id}`)
    await sendAndSeeTokens(page, 'Keep going')
    const answerId = (await savedChat(id)).messages.at(-1)!.id
    await page.context().close()
    const again = await world.openAsAdmin(`/chat/${id}`)
    await expect.poll(() => lastAnswer(again.page).getAttribute('data-state'), { timeout: 90_000 }).toBe('complete')
    const full = (await savedChat(id)).messages.find((m) => m.id === answerId)!
    expect(full).toMatchObject({ state: 'complete', figures: { completionTokens: 1900 } })
    expect(await lastAnswer(again.page).getByTestId('figures').textContent()).toContain('1,900 out')
    expect((await lastAnswer(again.page).getByTestId('message-text').textContent())!.length).toBeGreaterThan(0)
    await again.page.reload()
    await expect.poll(() => lastAnswer(again.page).getAttribute('data-state'), { timeout: 15_000 }).toBe('complete')
    expect(unexpected(again.errors)).toEqual([])
  }, 180_000)

  it('another browser of the same user sees the conversation; another user gets 404 for it; search finds a word of an answer', async () => {
    const other = await world.openAsAdmin('/chat')
    await other.page.getByTestId('chat-link').filter({ hasText: 'Tell me a story' }).click()
    await expect.poll(() => other.page.getByTestId('message-assistant').count(), { timeout: 15_000 }).toBe(1)
    expect(await other.page.getByTestId('chat-title').textContent()).toBe('Tell me a story about a lighthouse')

    await other.page.getByTestId('chat-search').fill(word)
    await other.page.getByTestId('chat-search').press('Enter')
    const hit = other.page.getByTestId('search-hit').first()
    expect(await hit.getAttribute('href')).toBe(`/chat/${chatId}`)
    expect((await hit.textContent())!.toLowerCase()).toContain(word.toLowerCase())
    await screenshot(other.page, 'chat-search')

    expect((await world.admin('POST', '/admin/api/orgs', { name: 'acme' })).status).toBe(201)
    const made = await world.admin('POST', '/admin/api/users', { org: 'acme', name: 'ann', role: 'member', password: PASSWORD })
    expect(made.status, await made.clone().text()).toBe(201)
    const member = await world.open('/')
    await member.page.getByTestId('signin-method-password').click()
    await member.page.getByTestId('signin-name').fill('ann')
    await member.page.getByTestId('signin-password').fill(PASSWORD)
    await member.page.getByTestId('signin-submit').click()
    await member.page.getByTestId('user').waitFor()
    const refused = member.page.waitForResponse((r) => r.url().endsWith(`/admin/api/chats/${chatId}`))
    await member.page.goto(new URL(`/chat/${chatId}`, world.cortex.url).href)
    expect((await refused).status()).toBe(404)
    await member.page.getByText('Could not open the conversation').waitFor()
    expect(await member.page.evaluate(async () => (await fetch('/admin/api/chats')).json())).toEqual([])
  }, 120_000)

  it('regenerate and edit make branches, both kept; ‹ › switches between them, and a reload keeps them', async () => {
    const id = await newChat({ max_tokens: 30 })
    const { page, errors } = await world.openAsAdmin(`/chat/${id}`)
    await page.getByTestId('composer').fill('Name a colour')
    await page.getByTestId('send').click()
    await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 60_000 }).toBe('complete')
    const first = await lastAnswer(page).getByTestId('message-text').textContent()

    await lastAnswer(page).getByTestId('regenerate').click()
    await expect.poll(() => lastAnswer(page).getByTestId('branch-at').textContent(), { timeout: 60_000 }).toBe('2/2')
    await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 60_000 }).toBe('complete')
    await page.getByRole('button', { name: 'Previous answer' }).click()
    expect(await lastAnswer(page).getByTestId('message-text').textContent()).toBe(first)
    expect(await lastAnswer(page).getByTestId('branch-at').textContent()).toBe('1/2')

    await page.getByTestId('edit').click()
    await page.getByTestId('edit-text').fill('Name a fruit')
    await page.getByTestId('edit-send').click()
    const question = page.getByTestId('message-user')
    await expect.poll(() => question.getByTestId('message-text').textContent(), { timeout: 60_000 }).toBe('Name a fruit')
    await expect.poll(() => lastAnswer(page).getAttribute('data-state'), { timeout: 60_000 }).toBe('complete')
    expect(await question.getByTestId('branch-at').textContent()).toBe('2/2')
    await screenshot(page, 'chat-branches')

    const tree = (await savedChat(id)).messages
    expect(tree.filter((m) => m.role === 'user').map((m) => [m.parentId, m.content])).toEqual([
      [null, 'Name a colour'],
      [null, 'Name a fruit'],
    ])
    expect(tree.filter((m) => m.parentId === tree[0]!.id)).toHaveLength(2)
    await page.reload()
    await page.getByRole('button', { name: 'Previous version' }).click()
    expect(await question.getByTestId('message-text').textContent()).toBe('Name a colour')

    // Too long for the model's 2048 tokens: a warning before the send, then the gateway's refusal; the text stays.
    const long = 'word '.repeat(2000).trim()
    await page.getByTestId('composer').fill(long)
    expect(await page.getByTestId('context-warning').textContent()).toMatch(/more than the 2,048 tokens tiny holds/)
    await page.getByTestId('send').click()
    expect(await page.getByTestId('send-error').textContent()).toMatch(/^this conversation needs about \d+ tokens/)
    expect(await page.getByTestId('composer').inputValue()).toBe(long)
    expect((await savedChat(id)).messages).toHaveLength(tree.length)
    // The refusal's 400, as Chromium logs a failed resource; nothing else.
    expect(unexpected(errors).filter((e) => !/status of 400/.test(e))).toEqual([])
  }, 180_000)

  it('compare: one question to two models side by side, each with its own figures; markup a model writes does not run', async () => {
    const id = await newChat({ max_tokens: 60 })
    const { page, errors } = await world.openAsAdmin(`/chat/${id}`)
    await page.getByTestId('compare-model').selectOption('standin')
    const typed = 'Write a greeting in JavaScript'
    await page.getByTestId('composer').fill(typed)
    await page.getByTestId('send').click()
    const pair = page.getByTestId('compare-pair').last()
    const answers = pair.getByTestId('message-assistant')
    await expect.poll(() => answers.count(), { timeout: 60_000 }).toBe(2)
    await expect
      .poll(async () => [await answers.nth(0).getAttribute('data-state'), await answers.nth(1).getAttribute('data-state')], {
        timeout: 60_000,
      })
      .toEqual(['complete', 'complete'])
    const saved = (await savedChat(id)).messages.filter((m) => m.role === 'assistant')
    expect(saved.map((m) => m.model).sort()).toEqual(['standin', 'tiny'])
    for (const [i, model] of ['tiny', 'standin'].entries()) {
      const m = saved.find((x) => x.model === model)!
      expect(await answers.nth(i).getAttribute('aria-label')).toBe(model)
      expect(await answers.nth(i).getByTestId('figures').textContent()).toContain(`${m.figures!.completionTokens} out`)
    }

    // The stand-in's answer: Markdown rendered, its markup shown as text, its javascript: link not a link.
    const fake = answers.nth(1)
    expect(await fake.locator('.markdown strong').first().textContent()).toBe('bold')
    expect(await fake.locator('img, script').count()).toBe(0)
    expect(await fake.getByTestId('message-text').textContent()).toContain('<img src=x onerror="globalThis.__cortexXss=1">')
    expect(await fake.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('rel')]))).toEqual([
      ['https://example.com/', 'noopener noreferrer'],
    ])
    expect(await fake.locator('.hljs-keyword').first().textContent()).toBe('const')
    await fake.getByText('bad link').click()
    expect(await page.getByTestId('message-user').last().getByTestId('message-text').textContent()).toBe(typed)
    expect(await page.evaluate(() => (globalThis as unknown as { __cortexXss?: number }).__cortexXss)).toBeUndefined()
    await screenshot(page, 'chat-compare')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
  }, 120_000)
})
