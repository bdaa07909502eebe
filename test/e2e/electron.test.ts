import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { _electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'

// The Electron binary comes from GitHub at install time, which this project never downloads
// (package.json allowScripts denies electron's postinstall). Where someone installed it, this runs.
const electronBinary = (() => {
  try {
    return createRequire(import.meta.url)('electron') as unknown as string
  } catch {
    return null
  }
})()
const main = path.resolve('dist/electron/main/index.js')
const why =
  !electronBinary || !existsSync(electronBinary)
    ? 'no Electron binary installed (run `node node_modules/electron/install.js` where GitHub is reachable)'
    : !existsSync(main)
      ? 'dist/ not built: run `npm run build`'
      : null

describe.skipIf(why !== null)(`desktop shell${why ? ` — skipped: ${why}` : ''}`, () => {
  it('opens a window on the embedded gateway and exposes only the typed bridge', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'cortex-electron-'))
    const app = await _electron.launch({
      executablePath: electronBinary!,
      args: [main],
      env: { ...process.env, CORTEX_DATA_DIR: path.join(home, 'data'), CORTEX_PORT: '0' },
    })
    try {
      const window = await app.firstWindow()
      const url = await window.evaluate(() => (window as unknown as { api: { gatewayUrl(): Promise<string> } }).api.gatewayUrl())
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(await window.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined')
    } finally {
      await app.close()
      rmSync(home, { recursive: true, force: true })
    }
  })
})
