import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, pageErrors } from './browser.js'
import { startCortex, type CortexProcess } from './cortex-process.js'

/**
 * One browser suite's world: a real `cortex serve` of its own (data directory, optional config file, optional stand-in
 * nvidia-smi on PATH) and Debian's Chromium. Each `open` is a fresh browser context (its own cookies).
 */
export interface ConsoleWorld {
  cortex: CortexProcess
  /** Scratch folder of this suite: the data directory, the config file and whatever the suite writes there. */
  home: string
  dataDir: string
  adminToken: string
  browser: Browser
  /** The admin API with the admin token. */
  admin(method: string, url: string, body?: unknown): Promise<Response>
  /** A new context on `url` (default `/`), signed out. */
  open(url?: string): Promise<OpenPage>
  /** A new context signed in as the built-in admin through a minted one-time code, on `url` (default `/`). */
  openAsAdmin(url?: string): Promise<OpenPage>
  close(): Promise<void>
}

export interface OpenPage {
  page: Page
  /** Console and page errors so far, except the one a signed-out console always logs (see `unexpected`). */
  errors: string[]
}

export interface ConsoleWorldOptions {
  /** `cortex.yaml` contents; `{home}` is replaced by the suite's folder. */
  config?: string
  /** Put the stand-in nvidia-smi (replaying the H100 captures) first on PATH; its NVIDIA_SMI_* variables. */
  nvidiaSmi?: Record<string, string>
}

const standinDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/nvidia-smi/standin')

export async function startConsoleWorld(name: string, o: ConsoleWorldOptions = {}): Promise<ConsoleWorld> {
  const home = mkdtempSync(path.join(os.tmpdir(), `cortex-${name}-`))
  const dataDir = path.join(home, 'data')
  const args = ['serve', '--data-dir', dataDir, '--port', '0']
  if (o.config !== undefined) {
    const file = path.join(home, 'cortex.yaml')
    writeFileSync(file, o.config.replaceAll('{home}', home))
    args.push('--config', file)
  }
  const env = o.nvidiaSmi ? { ...process.env, ...o.nvidiaSmi, PATH: `${standinDir}:${process.env.PATH ?? ''}` } : undefined
  const cortex = await startCortex(args, env)
  const adminToken = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()
  const browser = await launchChromium()
  const admin = (method: string, url: string, body?: unknown) =>
    fetch(`${cortex.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const open = async (url = '/') => {
    const page = await (await browser.newContext()).newPage()
    const errors = pageErrors(page)
    await page.goto(new URL(url, cortex.url).href)
    return { page, errors }
  }
  return {
    cortex,
    home,
    dataDir,
    adminToken,
    browser,
    admin,
    open,
    async openAsAdmin(url = '/') {
      const res = await admin('POST', '/admin/api/auth/codes')
      if (!res.ok) throw new Error(`POST /admin/api/auth/codes: ${res.status} ${await res.text()}`)
      const { code } = (await res.json()) as { code: string }
      const opened = await open(`/?code=${encodeURIComponent(code)}`)
      await opened.page
        .getByTestId('user')
        .waitFor()
        .catch(async (err: unknown) => {
          const shown = await opened.page
            .locator('body')
            .innerText()
            .catch(() => '(no body)')
          const log = cortex.stderr.slice(-30).join('\n')
          throw new Error(`not signed in: ${String(err)}\npage: ${shown}\nerrors: ${opened.errors.join('\n')}\ncortex: ${log}`)
        })
      if (url !== '/') await opened.page.goto(new URL(url, cortex.url).href)
      return opened
    },
    async close() {
      await browser.close()
      await cortex.stop()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/**
 * Errors a page logged, less the one a signed-out console always causes: it asks for its session at load and gets
 * 401, which Chromium logs as a failed resource.
 */
export const unexpected = (errors: string[]): string[] =>
  errors.filter((e) => !/Failed to load resource: .* status of 401/.test(e))

export { tinyModelConfig } from './tiny-config.js'
