import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { SystemResponse } from '../../gateway/contract/index.js'
import { axeViolations, browserMissing, pageErrors, screenshot } from '../support/browser.js'
import { startConsoleWorld, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/** Issue 11's first run and settings in Chromium against a real `cortex serve` with the real llama-server. */

const missing = browserMissing()
let world: ConsoleWorld
let gpuWorld: ConsoleWorld

beforeAll(async () => {
  if (missing) return
  const config = `engines: { llamaServer: ${JSON.stringify(inject('llamaServer'))} }\n`
  world = await startConsoleWorld('firstrun', { config })
  gpuWorld = await startConsoleWorld('firstrun-gpu', { config, nvidiaSmi: {} })
}, 180_000)

afterAll(async () => {
  await world?.close()
  await gpuWorld?.close()
})

describe.skipIf(missing !== null)(`console first run in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('lands on first run, shows what it found, makes a key that works, adds the first model from a GGUF path, and runs it', async () => {
    const { page, errors } = await world.openAsAdmin('/')
    await page.waitForURL(/\/first-run$/)
    const { cortex } = (await (await world.admin('GET', '/admin/api/system')).json()) as SystemResponse
    expect(cortex?.llamaServer.version).toMatch(/\S/)
    expect(await page.getByTestId('check-llama').getAttribute('data-ok')).toBe('true')
    expect(await page.getByTestId('check-llama').textContent()).toContain(
      `${cortex!.llamaServer.path} — ${cortex!.llamaServer.version}`,
    )
    expect(await page.getByTestId('check-gpus').textContent()).toMatch(/No NVIDIA GPU found.*CPU/)
    // Docker is up or down, whichever is true here; down shows the command that starts it.
    expect(await page.getByTestId('check-docker').getAttribute('data-ok')).toBe(String(cortex!.docker.available))
    if (!cortex!.docker.available)
      expect(await page.getByTestId('check-docker').locator('code').allTextContents()).toContain('sudo systemctl start docker')
    expect(await page.getByTestId('base-url').textContent()).toBe(`${world.cortex.url}/v1`)
    await screenshot(page, 'first-run')
    expect(await axeViolations(page)).toEqual([])

    await page.getByTestId('create-key').click()
    const key = (await page.getByTestId('new-key-value').textContent()) ?? ''
    expect(key).toMatch(/^sk-cortex-/)
    expect(await page.getByTestId('key-once').textContent()).toMatch(/cannot show it again/)
    expect((await fetch(`${world.cortex.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    await page.getByTestId('snippet-python').click()
    expect(await page.getByTestId('snippet-code').textContent()).toContain(`api_key="${key}"`)

    await page.getByTestId('gguf-path').fill('/nonexistent/model.gguf')
    await page.getByTestId('gguf-inspect').click()
    expect(await page.getByTestId('gguf-error').textContent()).toMatch(/nonexistent\/model\.gguf/)
    await page.getByTestId('gguf-path').fill(inject('tinyModel'))
    await page.getByTestId('gguf-inspect').click()
    expect(await page.getByTestId('gguf-architecture').textContent()).toBe('llama')
    expect(await page.getByTestId('gguf-context').textContent()).toMatch(/^[\d,]+ tokens$/)
    await page.getByTestId('model-name').fill('first')
    await page.getByTestId('model-context').fill('512')
    await expect.poll(() => page.getByTestId('dry-run').textContent(), { timeout: 15_000 }).toMatch(/llama-server.*-c 512/)
    await screenshot(page, 'first-run-inspected')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('model-add').click()
    await page.waitForURL(/\/models$/)
    // The model just added starts from the list, turns running without a reload, shows its log, and stops.
    const row = page.getByTestId('model-first')
    await row.getByTestId('start').click()
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 60_000 }).toBe('running')
    await row.getByRole('link', { name: 'first' }).click()
    await expect.poll(() => page.getByTestId('log-lines').textContent(), { timeout: 20_000 }).toMatch(/listening/)
    await page.getByTestId('stop').click()
    await expect.poll(() => page.getByTestId('model-detail').getAttribute('data-state'), { timeout: 30_000 }).toBe('stopped')
    // The one refusal asked for: the bad path's 400, which Chromium logs as a failed resource.
    expect(unexpected(errors).filter((e) => !/status of 400/.test(e))).toEqual([])
  })

  it('shows the GPUs nvidia-smi lists, with their memory', async () => {
    const { page } = await gpuWorld.openAsAdmin('/first-run')
    await page.getByTestId('check-gpus').waitFor()
    expect(await page.getByTestId('check-gpus').textContent()).toMatch(/1 NVIDIA GPU.*NVIDIA H100 80GB HBM3 — 79\.6 GiB/)
    await screenshot(page, 'first-run-gpu')
  })

  it('reads well narrow and dark', async () => {
    const res = await world.admin('POST', '/admin/api/auth/codes')
    const { code } = (await res.json()) as { code: string }
    const page = await (await world.browser.newContext({ colorScheme: 'dark', viewport: { width: 800, height: 900 } })).newPage()
    const errors = pageErrors(page)
    await page.goto(`${world.cortex.url}/?code=${code}`)
    await page.getByTestId('user').waitFor()
    await page.goto(`${world.cortex.url}/first-run`)
    await page.getByTestId('check-llama').waitFor()
    await screenshot(page, 'first-run-dark-narrow')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
  })

  it('settings: the Hugging Face token is write-only — set, shown as set, never its value, cleared', async () => {
    const { page, errors } = await world.openAsAdmin('/settings')
    await page.getByTestId('hf-state').waitFor()
    expect(await page.getByTestId('hf-state').textContent()).toBe('Not set')
    const secret = 'hf_e2eSecretValue0123456789'
    await page.getByTestId('hf-token').fill(secret)
    await page.getByTestId('hf-save').click()
    await expect.poll(() => page.getByTestId('hf-state').textContent()).toBe('Set')
    await page.reload()
    await page.getByTestId('hf-state').waitFor()
    expect(await page.content()).not.toContain(secret)
    // The page shows the settings before /system answers: the facts come with it.
    await expect.poll(() => page.getByTestId('data-dir').textContent()).toBe(world.dataDir)
    const { cortex } = (await (await world.admin('GET', '/admin/api/system')).json()) as SystemResponse
    expect(await page.getByTestId('cortex-version').textContent()).toBe(cortex!.version)
    expect(await page.getByTestId('llama-version').textContent()).toBe(cortex!.llamaServer.version)
    await screenshot(page, 'settings')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('hf-clear').click()
    await expect.poll(() => page.getByTestId('hf-state').textContent()).toBe('Not set')
    expect(unexpected(errors)).toEqual([])
  })

  it('a member who reaches settings or first run gets a plain state, and the API refuses them', async () => {
    const password = 'firstrun e2e member password'
    expect((await world.admin('POST', '/admin/api/orgs', { name: 'lab' })).status).toBe(201)
    expect((await world.admin('POST', '/admin/api/users', { org: 'lab', name: 'max', role: 'member', password })).status).toBe(
      201,
    )
    const { page, errors } = await world.open('/settings')
    await page.getByTestId('signin-method-password').click()
    await page.getByTestId('signin-name').fill('max')
    await page.getByTestId('signin-password').fill(password)
    await page.getByTestId('signin-submit').click()
    expect(await page.getByTestId('state-empty').textContent()).toMatch(/Only admins can change settings/)
    expect(await page.getByTestId('hf-token').count()).toBe(0)
    expect(await page.evaluate(async () => (await fetch('/admin/api/settings')).status)).toBe(403)
    await page.goto(`${world.cortex.url}/first-run`)
    expect(await page.getByTestId('state-empty').textContent()).toMatch(/Only admins set Cortex up/)
    expect(await axeViolations(page)).toEqual([])
    // The one refusal asked for: the settings read above.
    expect(unexpected(errors).filter((e) => !/status of 403/.test(e))).toEqual([])
  })
})
