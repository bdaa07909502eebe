import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations, browserMissing, launchChromium, pageErrors, screenshot } from '../support/browser.js'
import { startCortex, type CortexProcess } from '../support/cortex-process.js'

/** Issue 11 in Debian's Chromium against a real `cortex serve`: signing in, and what the first screen shows. */

const missing = browserMissing()
const home = mkdtempSync(path.join(os.tmpdir(), 'cortex-console-e2e-'))
const dataDir = path.join(home, 'data')
const PASSWORD = 'console e2e password'
let cortex: CortexProcess
let browser: Browser
let link: string

beforeAll(async () => {
  if (missing) return
  cortex = await startCortex(['serve', '--data-dir', dataDir, '--port', '0'])
  const admin = { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' }
  for (const [url, body] of [
    ['/admin/api/orgs', { name: 'acme' }],
    ['/admin/api/users', { org: 'acme', name: 'ann', role: 'member', password: PASSWORD }],
  ] as const) {
    const res = await fetch(`${cortex.url}${url}`, { method: 'POST', headers: admin, body: JSON.stringify(body) })
    if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`)
  }
  link = /Console: (http:\/\/\S+\?code=\S+)/.exec(cortex.stderr.join('\n'))?.[1] ?? ''
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await cortex?.stop()
  rmSync(home, { recursive: true, force: true })
})

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors = pageErrors(page)
  await page.goto(url)
  return { page, errors }
}

describe.skipIf(missing !== null)(`console in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('the one-time link signs in with nothing to type, leaves no code in the address bar, and works once', async () => {
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?code=[\w-]{20,}$/)
    const { page, errors } = await open(link)
    await page.getByTestId('user').waitFor()
    expect(await page.getByTestId('user').textContent()).toContain('admin')
    expect(page.url()).not.toContain('code=')
    // The screen itself, not the shell around a route still loading: an admin with no models lands on First run.
    await page.getByRole('heading', { name: 'Welcome to Cortex' }).waitFor()
    await screenshot(page, 'first-screen-admin')
    expect(await axeViolations(page)).toEqual([])

    const again = await open(link)
    await again.page.getByTestId('sign-in').waitFor()
    await again.page.getByTestId('signin-error').waitFor()
    expect(await again.page.getByTestId('signin-error').textContent()).toMatch(/unknown, used or expired/)
    await screenshot(again.page, 'sign-in-used-link')
    expect(await axeViolations(again.page)).toEqual([])
    // The console asks for its session at load and a signed-out browser gets 401, which Chromium logs as a failed
    // resource (so does the refused code); that is the only message either page may log.
    const unexpected = (list: string[]) => list.filter((e) => !/Failed to load resource: .* status of 401/.test(e))
    expect(unexpected(errors)).toEqual([])
    expect(unexpected(again.errors)).toEqual([])
  })

  it('signing out returns to the sign-in page, and the old cookie opens nothing', async () => {
    const { page } = await open(cortex.url)
    await page.getByTestId('signin-token-input').fill(await adminToken())
    await page.getByTestId('signin-submit').click()
    await page.getByTestId('sign-out').click()
    await page.getByTestId('sign-in').waitFor()
    expect(await page.evaluate(async () => (await fetch('/admin/api/models')).status)).toBe(401)
  })

  it('a member signs in with a password after a wrong one, is throttled after five, and sees no admin pages', async () => {
    const { page, errors } = await open(cortex.url)
    await page.getByTestId('signin-method-password').click()
    await page.getByTestId('signin-name').fill('ann')
    await page.getByTestId('signin-password').fill('not the password')
    await page.getByTestId('signin-submit').click()
    await expect.poll(() => page.getByTestId('signin-error').textContent()).toMatch(/wrong password/)

    await page.getByTestId('signin-password').fill(PASSWORD)
    await page.getByTestId('signin-submit').click()
    await page.getByTestId('user').waitFor()
    expect(await page.getByTestId('user').textContent()).toMatch(/ann.*member/)
    expect(await page.getByTestId('nav-settings').count()).toBe(0)
    expect(await page.getByTestId('nav-gpus').count()).toBe(0)
    await screenshot(page, 'first-screen-member')
    // The API refuses what the UI hides.
    const status = await page.evaluate(async () => (await fetch('/admin/api/settings')).status)
    expect(status).toBe(403)
    expect(errors.filter((e) => !/status of (401|403)/.test(e))).toEqual([])

    const other = await open(cortex.url)
    await other.page.getByTestId('signin-method-password').click()
    await other.page.getByTestId('signin-name').fill('ann')
    // Every local browser shares 127.0.0.1, so the failures above count too: the throttle comes within five more.
    const throttled = () => other.page.getByTestId('signin-error').textContent()
    for (
      let i = 0;
      i < 5 && !((await other.page.getByTestId('signin-error').count()) > 0 && /within a minute/.test((await throttled()) ?? ''));
      i++
    ) {
      await other.page.getByTestId('signin-password').fill(`wrong ${i} password`)
      const answered = other.page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/auth/session'))
      await other.page.getByTestId('signin-submit').click()
      await answered
      // The error text of the last try is still shown while this one is in flight: wait for the form to settle.
      await expect.poll(() => other.page.getByTestId('signin-submit').textContent()).toBe('Sign in')
      await expect.poll(async () => /wrong password|within a minute/.test((await throttled()) ?? '')).toBe(true)
    }
    await expect.poll(throttled).toMatch(/failed sign-ins from .* within a minute.*Try again in \d+ s/)
    expect(await other.page.getByTestId('signin-submit').isDisabled()).toBe(true)
    await screenshot(other.page, 'sign-in-throttled')
  })
})

async function adminToken(): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  return (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim()
}
