import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContextOptions, Page } from 'playwright-core'
import { axeViolations, browserMissing, pageErrors, screenshot } from '../support/browser.js'
import { startConsoleWorld, unexpected, type ConsoleWorld } from '../support/console-e2e.js'

/** Issue 11's GPU screen in Chromium against a real `cortex serve`: the stand-in nvidia-smi replays an H100. */

const missing = browserMissing()
let gpuWorld: ConsoleWorld
let bareWorld: ConsoleWorld

beforeAll(async () => {
  if (missing) return
  gpuWorld = await startConsoleWorld('gpus', { nvidiaSmi: {} })
  // The machine has no nvidia-smi, so a world without the stand-in has no GPU.
  bareWorld = await startConsoleWorld('no-gpu')
}, 120_000)

afterAll(async () => {
  await gpuWorld?.close()
  await bareWorld?.close()
})

/** world.openAsAdmin with context options (dark, narrow), and what the page showed when the sign-in did not land. */
async function signedIn(world: ConsoleWorld, url: string, options: BrowserContextOptions = {}) {
  const res = await world.admin('POST', '/admin/api/auth/codes')
  const { code } = (await res.json()) as { code: string }
  const page = await (await world.browser.newContext(options)).newPage()
  const errors = pageErrors(page)
  await page.goto(new URL(`/?code=${encodeURIComponent(code)}`, world.cortex.url).href)
  await page
    .getByTestId('user')
    .waitFor()
    .catch(async (err: unknown) => {
      throw new Error(`not signed in: ${String(err)}\n${await page.locator('body').innerText()}\n${errors.join('\n')}`)
    })
  await page.goto(new URL(url, world.cortex.url).href)
  return { page, errors }
}

const points = async (page: Page, testId: string) => Number(await page.getByTestId(testId).getAttribute('data-points'))

describe.skipIf(missing !== null)(`console GPUs in Chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('shows one card per GPU with its figures in units, and charts that draw and move', async () => {
    const { page, errors } = await signedIn(gpuWorld, '/gpus')
    const card = page.getByTestId('gpu-0')
    await card.waitFor()
    expect(await page.locator('[data-testid^="gpu-"][data-testid$="-name"]').count()).toBe(1)
    expect(await page.getByTestId('gpu-0-name').textContent()).toBe('NVIDIA H100 80GB HBM3')
    expect(await page.getByTestId('gpu-0-memory').textContent()).toMatch(/^[\d.]+ (B|KiB|MiB|GiB) of 79\.6 GiB$/)
    expect(await page.getByTestId('gpu-0-utilization').textContent()).toMatch(/^\d+ %$/)
    expect(await page.getByTestId('gpu-0-temperature').textContent()).toMatch(/^\d+ °C$/)
    expect(await page.getByTestId('gpu-0-power').textContent()).toMatch(/^\d+ W of 700 W$/)
    // The captured llama-server is no Cortex model's engine: its memory is "other".
    await expect
      .poll(() => page.getByTestId('gpu-0-memory-split').textContent(), { timeout: 20_000 })
      .toMatch(/other [\d.]+ (MiB|GiB)/)
    for (const chart of ['memory', 'utilization', 'temperature', 'power'])
      expect(await page.getByTestId(`gpu-0-chart-${chart}`).locator('canvas').count()).toBe(1)

    const before = await points(page, 'gpu-0-chart-power')
    await expect.poll(() => points(page, 'gpu-0-chart-power'), { timeout: 20_000 }).toBeGreaterThan(before)
    // The stand-in alternates an idle and a busy capture, so the readings change as the chart grows.
    await expect
      .poll(() => page.getByTestId('gpu-0-power').textContent(), { timeout: 20_000 })
      .not.toBe(await page.getByTestId('gpu-0-power').textContent())
    expect(await page.getByTestId('host-cpu').textContent()).toMatch(/^[\d.]+ %$|^—$/)
    await screenshot(page, 'gpus')
    expect(await axeViolations(page)).toEqual([])

    // Hovering the newest readings says them under the chart.
    const plot = page.getByTestId('gpu-0-chart-power').locator('.u-over')
    const box = (await plot.boundingBox())!
    await plot.hover({ position: { x: box.width - 2, y: box.height / 2 } })
    await expect
      .poll(() => page.getByTestId('gpu-0-chart-power').locator('figcaption').textContent())
      .toMatch(/^\d\d:\d\d · Power \d+ W$/)

    await page.getByTestId('window-60').click()
    expect(await page.getByTestId('window-60').getAttribute('aria-pressed')).toBe('true')
    expect(unexpected(errors)).toEqual([])
  })

  it('a reload draws the history at once', async () => {
    const { page, errors } = await signedIn(gpuWorld, '/gpus')
    await page.getByTestId('gpu-0').waitFor()
    await expect.poll(() => points(page, 'gpu-0-chart-memory'), { timeout: 20_000 }).toBeGreaterThan(2)
    await page.reload()
    await page.getByTestId('gpu-0').waitFor()
    expect(await points(page, 'gpu-0-chart-memory')).toBeGreaterThan(1)
    expect(unexpected(errors)).toEqual([])
  })

  it('fits a narrow window and follows a dark OS', async () => {
    const { page, errors } = await signedIn(gpuWorld, '/gpus', { colorScheme: 'dark', viewport: { width: 800, height: 900 } })
    await page.getByTestId('gpu-0-chart-power').locator('canvas').waitFor()
    // Nothing sticks out sideways: the charts follow their container's width.
    const overflow = 'document.documentElement.scrollWidth - document.documentElement.clientWidth'
    expect(await page.evaluate(overflow)).toBe(0)
    await screenshot(page, 'gpus-narrow-dark')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
  })

  it('without nvidia-smi says plainly that there is no NVIDIA GPU, not an error', async () => {
    const { page, errors } = await bareWorld.openAsAdmin('/gpus')
    await page.getByTestId('no-gpu').waitFor()
    expect(await page.getByTestId('state-empty').textContent()).toMatch(/No NVIDIA GPU found.*nvidia-smi is not on PATH/)
    expect(await page.getByTestId('state-error').count()).toBe(0)
    await page.getByTestId('host').waitFor()
    await screenshot(page, 'gpus-none')
    expect(await axeViolations(page)).toEqual([])
    expect(unexpected(errors)).toEqual([])
  })
})
