import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations, browserMissing, pageErrors, screenshot } from '../support/browser.js'
import { startConsoleWorld, tinyModelConfig, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/** Issue 11's models screen in Chromium against a real `cortex serve` and real llama-server engines. */

const missing = browserMissing()
const PASSWORD = 'models e2e password'
let world: ConsoleWorld

beforeAll(async () => {
  if (missing) return
  // The stand-in nvidia-smi replays the captured H100, so the dry-runs have a GPU to place the models on.
  world = await startConsoleWorld('models', {
    config: tinyModelConfig(inject('llamaServer'), inject('tinyModel')),
    nvidiaSmi: {},
  })
  const notGguf = path.join(world.home, 'notes.gguf')
  writeFileSync(notGguf, 'these are notes, not a model\n')
  for (const [url, body] of [
    [
      '/admin/api/models',
      { name: 'api-tiny', engine: 'llamacpp', runtime: 'process', source: inject('tinyModel'), args: ['-c', '512'] },
    ],
    ['/admin/api/models', { name: 'broken', engine: 'llamacpp', runtime: 'process', source: notGguf }],
    ['/admin/api/orgs', { name: 'acme' }],
    ['/admin/api/users', { org: 'acme', name: 'mia', role: 'member', password: PASSWORD }],
  ] as const) {
    const res = await world.admin('POST', url, body)
    if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`)
  }
}, 180_000)

afterAll(async () => {
  await world?.close()
})

describe.skipIf(missing !== null)(`console models in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('starts a model from the list, its badge turns running live, its log follows, and it stops', async () => {
    const { page, errors } = await world.openAsAdmin('/models')
    const row = page.getByTestId('model-api-tiny')
    await row.waitFor()
    expect(await page.locator('[data-testid^="model-"][data-state]').count()).toBe(3)
    expect(await row.getAttribute('data-state')).toBe('stopped')
    await row.getByTestId('start').click()
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 60_000 }).toBe('running')
    expect(await row.getByTestId('state-badge').textContent()).toBe('Running')
    // Its estimate, from the dry-run on the H100; nothing on the capture is its engine, so no memory in use.
    await expect.poll(() => row.getByTestId('gpu-memory').textContent()).toMatch(/^—est\. [\d.]+ (MiB|GiB)$/)
    await screenshot(page, 'models-list')
    expect(await axeViolations(page)).toEqual([])

    await row.getByRole('link', { name: 'api-tiny' }).click()
    const detail = page.getByTestId('model-detail')
    await detail.waitFor()
    await expect.poll(() => page.getByTestId('log-lines').textContent(), { timeout: 20_000 }).toMatch(/llama|server|model/i)
    await page.getByTestId('logs-search').fill('listening')
    await expect.poll(() => page.getByTestId('log-lines').textContent()).not.toMatch(/^No output yet/)
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await page.getByTestId('copy').click()
    await expect.poll(() => page.getByTestId('copy').textContent()).toBe('Copied')
    // A string: the suite's tsconfig has no DOM types.
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toMatch(/listening/)
    await screenshot(page, 'model-detail-logs')
    expect(await axeViolations(page)).toEqual([])

    await page.getByTestId('stop').click()
    await expect.poll(() => detail.getAttribute('data-state'), { timeout: 30_000 }).toBe('stopped')

    await page.getByTestId('edit').click()
    await page.getByTestId('edit-args').fill('-c 256')
    await screenshot(page, 'model-edit')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('edit-save').click()
    await page.getByTestId('edit-form').waitFor({ state: 'detached' })
    expect(await detail.textContent()).toContain('-c 256')
    const saved = (await (await world.admin('GET', '/admin/api/models')).json()) as {
      data: Array<{ name: string; args: string[] }>
    }
    expect(saved.data.find((m) => m.name === 'api-tiny')?.args).toEqual(['-c', '256'])
    expect(unexpected(errors)).toEqual([])
  })

  it('a model that fails to start shows its diagnosis in plain words, first', async () => {
    const { page, errors } = await world.openAsAdmin('/models')
    const row = page.getByTestId('model-broken')
    await row.getByTestId('start').click()
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('failed')
    expect(await page.getByTestId('failed-broken').textContent()).toMatch(/not a GGUF|GGUF/i)
    await row.getByRole('link', { name: 'broken' }).click()
    const diagnosis = page.getByTestId('diagnosis')
    await diagnosis.waitFor()
    expect(await diagnosis.textContent()).toMatch(/GGUF/i)
    await screenshot(page, 'model-failed-diagnosis')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
  })

  it('a model from the config file is read-only here, and says where to change it', async () => {
    const { page } = await world.openAsAdmin('/models')
    await page.getByTestId('model-tiny').getByRole('link', { name: 'tiny' }).click()
    await page.getByTestId('edit').click()
    expect(await page.getByTestId('edit-readonly').textContent()).toMatch(/config file \(cortex\.yaml\)/)
    expect(await page.getByTestId('pin').count()).toBe(0)
    expect(await page.getByTestId('delete').count()).toBe(0)
  })

  it('a member sees names and states but no actions or definitions, and the API refuses their start', async () => {
    const { page, errors } = await world.open('/models')
    await page.getByTestId('signin-method-password').click()
    await page.getByTestId('signin-name').fill('mia')
    await page.getByTestId('signin-password').fill(PASSWORD)
    await page.getByTestId('signin-submit').click()
    const row = page.getByTestId('model-api-tiny')
    await row.waitFor()
    expect(await page.getByTestId('start').count()).toBe(0)
    expect(await row.getByRole('link').count()).toBe(0)
    expect(await page.getByTestId('new-from-recipe').count()).toBe(0)
    const status = await page.evaluate(async () => {
      const csrf = (await (await fetch('/admin/api/auth/session')).json()) as { csrf: string }
      const models = (await (await fetch('/admin/api/models')).json()) as { data: Array<{ id: string; source?: string }> }
      const res = await fetch(`/admin/api/models/${models.data[0]!.id}/start`, {
        method: 'POST',
        headers: { 'x-cortex-csrf': csrf.csrf },
      })
      return { status: res.status, sources: models.data.map((m) => m.source ?? null) }
    })
    expect(status).toEqual({ status: 403, sources: [null, null, null] })
    await screenshot(page, 'models-member')
    expect(await axeViolations(page)).toEqual([])
    expect(errors.filter((e) => !/status of (401|403)/.test(e))).toEqual([])
  })

  it('adds a model from a recipe with its dry-run live, deletes it once confirmed, and says why an image did not load', async () => {
    // Once in dark mode in a narrow window.
    const res = await world.admin('POST', '/admin/api/auth/codes')
    const { code } = (await res.json()) as { code: string }
    const context = await world.browser.newContext({ colorScheme: 'dark', viewport: { width: 800, height: 1000 } })
    const page = await context.newPage()
    const errors = pageErrors(page)
    await page.goto(new URL(`/?code=${encodeURIComponent(code)}`, world.cortex.url).href)
    await page.getByTestId('user').waitFor()
    await page.goto(new URL('/models', world.cortex.url).href)
    await page.getByTestId('model-tiny').waitFor()

    // Delete asks first, in place; Cancel keeps the model.
    const apiRow = page.getByTestId('model-api-tiny')
    await apiRow.getByTestId('delete').click()
    await expect.poll(() => apiRow.getByRole('group', { name: 'Confirm' }).textContent()).toMatch(/Delete api-tiny\?/)
    await screenshot(page, 'models-delete-confirm-dark-narrow')
    await apiRow.getByRole('button', { name: 'Cancel' }).click()
    await apiRow.getByTestId('delete').waitFor()

    await page.getByText('Docker images').click()
    await page.getByTestId('image-path').fill(path.join(world.home, 'no-such-image.tar'))
    await page.getByTestId('image-load').click()
    await expect.poll(() => page.getByTestId('image-error').textContent()).toMatch(/\w+/)
    await screenshot(page, 'models-list-dark-narrow')
    expect(await axeViolations(page)).toEqual([])

    await page.getByTestId('new-from-recipe').click()
    await page.getByTestId('recipe-llamacpp-nomic-embed-text-v1.5').click()
    await page.getByTestId('recipe-name').fill('from-recipe')
    await page.getByTestId('recipe-source').fill(inject('tinyModel'))
    const dryRun = page.getByTestId('dry-run')
    await expect.poll(() => dryRun.textContent()).toContain(`-m ${inject('tinyModel')}`)
    expect(await dryRun.textContent()).toContain('--embeddings')
    await screenshot(page, 'models-recipe-dark-narrow')
    expect(await axeViolations(page)).toEqual([])

    await page.getByTestId('recipe-create').click()
    const detail = page.getByTestId('model-detail')
    await detail.waitFor()
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('from-recipe')
    await page.getByTestId('delete').click()
    await page.getByTestId('delete-confirm').click()
    await page.getByTestId('models-table').waitFor()
    expect(await page.getByTestId('model-from-recipe').count()).toBe(0)
    const listed = (await (await world.admin('GET', '/admin/api/models')).json()) as { data: Array<{ name: string }> }
    expect(listed.data.map((m) => m.name).sort()).toEqual(['api-tiny', 'broken', 'tiny'])
    // The failed image load is a 4xx/5xx the browser logs as a failed resource; nothing else may be logged.
    expect(unexpected(errors).filter((e) => !/images\/load|status of (400|404|500|503)/.test(e))).toEqual([])
    await context.close()
  })
})
