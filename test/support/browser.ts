import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`); a browser is never downloaded. CHROMIUM_PATH points elsewhere. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Why the browser suites cannot run here, or null. Under CI=true a missing browser fails them instead. */
export function browserMissing(): string | null {
  if (existsSync(chromiumPath)) return null
  const why = `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`
  if (process.env.CI === 'true') throw new Error(`${why}: under CI=true the browser suite may not skip`)
  return why
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    // As root (CI) Chromium refuses to start sandboxed.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  })
}

/** Every console error and uncaught page error of `page`, for a test to assert there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (err) => errors.push(`page: ${err.message}`))
  return errors
}

/** Screenshots go to a git-ignored folder, one per page, for people to look at. */
export const screenshotDir = path.resolve('test-results/screens')

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true })
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true })
}

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[] }>
}

/**
 * axe-core's serious and critical violations on the page as it is now. The script is evaluated through the DevTools
 * protocol, which the console's CSP (no inline script) does not govern, so the page under test stays as shipped.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  await page.evaluate(source)
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe
    return (await axe.run()).violations
  })
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}
