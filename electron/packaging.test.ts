import { Ajv } from 'ajv'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { NATIVE_MODULE, builderElectronVersion, moduleAbis, productionPackages, stageApp } from '../scripts/stage-app.js'

/** electron-builder.yml against electron-builder's own schema, and the staging copy it packages (issue 13). */

const root = path.resolve(import.meta.dirname, '..')
const config = parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as {
  directories: { app: string }
  files: string[]
  asarUnpack: string[]
  extraResources: Array<{ from: string; to: string }>
  icon: string
  [key: string]: unknown
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>
  scripts: Record<string, string>
}
const nativeModule = NATIVE_MODULE

/** Whether a pattern of the kinds electron-builder.yml uses (`dir/**`, a plain path) names anything under `cwd`. */
function names(pattern: string, cwd: string): boolean {
  const base = pattern.replace(/\/\*\*$/, '')
  if (/[*?{[]/.test(base)) throw new Error(`${pattern}: this test knows only "dir/**" and plain paths; teach it this one`)
  const full = path.join(cwd, base)
  if (!existsSync(full)) return false
  return !statSync(full).isDirectory() || readdirSync(full).length > 0
}

describe('electron-builder.yml', () => {
  it("is valid against the configuration schema electron-builder ships (app-builder-lib's scheme.json)", () => {
    const schemaFile = createRequire(import.meta.url).resolve('app-builder-lib/scheme.json')
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')))
    const valid = validate(config)
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([])
    expect(valid).toBe(true)
    // The schema refuses what electron-builder would: a misspelt key, a wrong type.
    expect(validate({ ...config, npmRebuilt: false })).toBe(false)
    expect(validate({ ...config, asarUnpack: 42 })).toBe(false)
  })

  it('builds every installer the issue names, never rebuilds in place, and carries no publisher feed', () => {
    expect(config).toMatchObject({
      linux: { target: ['AppImage', 'deb'] },
      win: { target: ['nsis'] },
      mac: { target: ['dmg', 'zip'] },
      npmRebuild: false,
      nodeGypRebuild: false,
      publish: null,
      directories: { app: 'build/app' },
    })
    expect((config.deb as { depends: string[] }).depends).toContain('libnss3')
    // electron-builder refuses a deb without both (FpmTarget: "Please specify project homepage", "… maintainer").
    expect(config).toMatchObject({
      extraMetadata: { homepage: expect.stringMatching(/^https:\/\//) },
      linux: { maintainer: expect.stringMatching(/^.+ <.+@.+>$/) },
    })
    expect(config.asarUnpack).toContain('node_modules/better-sqlite3/**')
  })

  it('targets the Electron that package.json installs', () => {
    expect(builderElectronVersion(root)).toBe(pkg.devDependencies.electron)
  })

  it('is what `npm run dist` packages, after staging', () => {
    expect(pkg.scripts.dist).toMatch(/npm run build\b.*npm run build:console.*tsx scripts\/stage-app\.ts.*electron-builder/)
    // Nothing rebuilds or downloads for Electron during `npm ci`.
    expect(pkg.scripts).not.toHaveProperty('postinstall')
  })
})

describe('the staging copy', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'cortex-stage-'))
  const app = path.join(out, 'app')
  const checkoutModule = path.join(root, nativeModule)
  // Copying all ~190 production packages (~120 MB) costs CI half a minute and proves no more than the copy code on
  // the packages asarUnpack names (the native module and what loads it); which packages a real staging copies is
  // productionPackages, checked below against the lockfile.
  const unpacked = config.asarUnpack.map((p) => p.replace(/\/\*\*$/, ''))
  let before: Buffer
  beforeAll(async () => {
    before = readFileSync(checkoutModule)
    // Plays the Electron rebuild: the staged module is replaced by bytes Node cannot load.
    await stageApp({
      root,
      out: app,
      packages: unpacked,
      rebuild: async (dir) => writeFileSync(path.join(dir, nativeModule), 'electron abi'),
    })
  }, 120_000)
  afterAll(() => rmSync(out, { recursive: true, force: true }), 120_000)

  it('has every file electron-builder.yml names (after `npm run build`)', () => {
    for (const pattern of [...config.files.filter((p) => !p.startsWith('!')), ...config.asarUnpack]) {
      expect(names(pattern, app), `${pattern} in the staged app`).toBe(true)
    }
    for (const { from } of config.extraResources) expect(existsSync(path.join(root, from)), from).toBe(true)
    expect(existsSync(path.join(root, config.icon))).toBe(true)
    for (const file of ['dist/electron/main/index.js', 'dist/electron/preload/index.cjs', 'dist/renderer/index.html'])
      expect(existsSync(path.join(app, file)), file).toBe(true)
  })

  it('holds the production dependencies only', () => {
    const staged = productionPackages(root)
    expect(staged).toContain('node_modules/better-sqlite3')
    expect(staged).toContain('node_modules/electron-updater')
    for (const dir of unpacked) expect(staged, dir).toContain(dir)
    for (const dev of ['node_modules/electron', 'node_modules/vitest', 'node_modules/electron-builder']) {
      expect(staged).not.toContain(dev)
      expect(existsSync(path.join(app, dev)), dev).toBe(false)
    }
    expect(JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'))).not.toHaveProperty('devDependencies')
  })

  it('leaves the checkout alone: Node still loads better-sqlite3 after the staged copy is rebuilt', () => {
    expect(readFileSync(checkoutModule).equals(before)).toBe(true)
    expect(readFileSync(path.join(app, nativeModule), 'utf8')).toBe('electron abi')
    const answer = execFileSync(
      process.execPath,
      [
        '-e',
        "const D = require('better-sqlite3'); console.log(JSON.stringify(new D(':memory:').prepare('select 41 + 1 as x').get()))",
      ],
      { cwd: root, encoding: 'utf8' },
    )
    expect(JSON.parse(answer)).toEqual({ x: 42 })
  })

  it("reads a native module's ABI, as the real rebuild checks Electron's (the checkout's is this Node's)", () => {
    expect(moduleAbis(checkoutModule)).toEqual([process.versions.modules])
    expect(readFileSync(path.join(root, 'node_modules/electron/abi_version'), 'utf8').trim()).not.toBe(process.versions.modules)
  })
})
