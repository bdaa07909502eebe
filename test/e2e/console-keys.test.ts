import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations, browserMissing, pageErrors, screenshot } from '../support/browser.js'
import { startConsoleWorld, tinyModelConfig, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/** Issue 11's keys, organizations, users and sessions in Chromium against a real `cortex serve`. */

const missing = browserMissing()
const PASSWORD = 'keys e2e member password'
let world: ConsoleWorld

beforeAll(async () => {
  if (missing) return
  world = await startConsoleWorld('keys', { config: tinyModelConfig(inject('llamaServer'), inject('tinyModel')) })
}, 180_000)

afterAll(async () => {
  await world?.close()
})

const models = (key: string) => fetch(`${world.cortex.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })

describe.skipIf(missing !== null)(`console keys in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('creates a key limited to a model, shows it once, the key works with curl’s request, and revoking it refuses it', async () => {
    const { page, errors } = await world.openAsAdmin('/keys')
    await page.getByTestId('state-empty').waitFor()
    await page.getByTestId('key-form-create').click()
    expect(await page.getByTestId('key-form-error').textContent()).toMatch(/Give the key a name/)
    await page.getByTestId('key-form-name').fill('continue-laptop')
    await page.getByTestId('key-model-tiny').check()
    await page.getByTestId('key-form-create').click()
    const key = (await page.getByTestId('created-key-value').textContent()) ?? ''
    expect(key).toMatch(/^sk-cortex-/)
    const row = page.getByTestId('key-continue-laptop')
    expect(await row.textContent()).toMatch(/tiny/)
    await screenshot(page, 'keys-created')
    expect(await axeViolations(page)).toEqual([])
    const ok = await models(key)
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['tiny'])

    await page.reload()
    await row.waitFor()
    expect(await page.getByTestId('created-key').count()).toBe(0)
    expect(await page.content()).not.toContain(key)
    expect(await row.textContent()).toContain(key.slice(0, 12))
    await screenshot(page, 'keys-list')
    await row.getByTestId('revoke').click()
    await row.getByTestId('revoke-confirm').click()
    await expect.poll(() => row.getAttribute('data-state')).toBe('revoked')
    expect((await models(key)).status).toBe(401)
    expect(unexpected(errors)).toEqual([])
  })

  it('an admin adds an organization and a member; the member makes their own key and sees no admin parts; revoking their session signs them out', async () => {
    const admin = await world.openAsAdmin('/keys/people')
    const { page } = admin
    await page.getByTestId('org-name').fill('acme')
    await page.getByTestId('org-create').click()
    await expect.poll(() => page.getByTestId('orgs').textContent()).toContain('acme')
    await page.getByTestId('user-name').fill('ann')
    await page.getByTestId('user-org').selectOption('acme')
    await page.getByTestId('user-password').fill('short')
    await page.getByTestId('user-create').click()
    expect(await page.getByTestId('user-error').textContent()).toMatch(/at least 12 characters \(it has 5\)/)
    await page.getByTestId('user-password').fill(PASSWORD)
    await page.getByTestId('user-create').click()
    await expect.poll(() => page.getByTestId('users').textContent()).toMatch(/ann.*acme.*member/)
    await screenshot(page, 'keys-people')
    expect(await axeViolations(page)).toEqual([])

    const member = await world.open('/keys')
    await member.page.getByTestId('signin-method-password').click()
    await member.page.getByTestId('signin-name').fill('ann')
    await member.page.getByTestId('signin-password').fill(PASSWORD)
    await member.page.getByTestId('signin-submit').click()
    await member.page.getByTestId('key-form-name').fill('ann-cli')
    await member.page.getByTestId('key-form-create').click()
    expect(await member.page.getByTestId('created-key-value').textContent()).toMatch(/^sk-cortex-/)
    expect(await member.page.getByTestId('tab-people').count()).toBe(0)
    expect(await member.page.getByLabel('Organization').count()).toBe(0)
    await member.page.getByTestId('key-ann-cli').waitFor()
    await screenshot(member.page, 'keys-member')
    expect(await axeViolations(member.page)).toEqual([])
    expect(await member.page.evaluate(async () => (await fetch('/admin/api/orgs')).status)).toBe(403)
    // The member sees their own key only: not the admin's revoked one.
    expect(await member.page.getByTestId('key-continue-laptop').count()).toBe(0)

    await page.reload()
    const session = page.getByTestId('session-ann')
    await session.waitFor()
    expect(await page.getByTestId('session-admin-current').count()).toBe(1)
    await session.getByTestId('session-revoke').click()
    await expect.poll(() => session.count()).toBe(0)
    await member.page.reload()
    await member.page.getByTestId('sign-in').waitFor()
    expect(unexpected(admin.errors)).toEqual([])
  })

  it('reads in dark mode in a narrow window: keys with their limits and ranges, and the people page', async () => {
    const made = await world.admin('POST', '/admin/api/keys', {
      name: 'batch-jobs',
      models: ['tiny'],
      rpm: 120,
      tpm: 50_000,
      dailyTokens: 2_000_000,
      ips: ['10.0.0.0/8', '::1'],
      tags: ['batch'],
      org: 'acme',
      expires: '30d',
    })
    expect(made.status).toBe(201)
    const { code } = (await (await world.admin('POST', '/admin/api/auth/codes')).json()) as { code: string }
    const context = await world.browser.newContext({ colorScheme: 'dark', viewport: { width: 800, height: 900 } })
    const page = await context.newPage()
    const errors = pageErrors(page)
    await page.goto(new URL(`/?code=${encodeURIComponent(code)}`, world.cortex.url).href)
    await page.getByTestId('user').waitFor()
    await page.goto(new URL('/keys', world.cortex.url).href)
    const row = page.getByTestId('key-batch-jobs')
    await expect.poll(() => row.textContent()).toMatch(/acme.*10\.0\.0\.0\/8.*120 req\/min/)
    await screenshot(page, 'keys-list-dark-narrow')
    expect(await axeViolations(page)).toEqual([])
    await page.getByTestId('tab-people').click()
    await page.getByTestId('users').waitFor()
    await screenshot(page, 'keys-people-dark-narrow')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
    await context.close()
  })
})
