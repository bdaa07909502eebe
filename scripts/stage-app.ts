// Makes the staging copy electron-builder packages (`directories.app: build/app` in electron-builder.yml):
// `npx tsx scripts/stage-app.ts`, run by `npm run dist` after the build.
//
// Why a copy: native modules (better-sqlite3) must be built for Electron's ABI inside the app, and rebuilding the
// checkout's node_modules in place (electron-builder's npmRebuild) would leave `cortex serve` and the tests with a
// module Node cannot load. The copy takes the production dependencies exactly as package-lock.json has them
// installed here, and only the copy is rebuilt. The rebuild fetches Electron's prebuilt better-sqlite3 or Electron's
// headers, so it needs the network — at packaging time, never during `npm ci`.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface StageOptions {
  /** The checkout: its package.json, package-lock.json, node_modules and build output. */
  root: string
  /** Where the copy goes (emptied first). */
  out: string
  /** Rebuilds the copy's native modules for Electron. */
  rebuild(out: string): Promise<void>
  /** The node_modules folders to copy; all of productionPackages(root) unless a test narrows them. */
  packages?: string[]
}

/** What the app needs at run time, from the checkout: the build (dist/, with the console), the CLI, the recipes. */
const APP_PATHS = ['dist', 'bin', 'recipes']
/** Beside the code so an unpackaged run of the copy finds them as a package finds its extra resources. */
const RESOURCE_PATHS = ['resources/tray', 'resources/icon.png']

export async function stageApp({ root, out, rebuild, packages }: StageOptions): Promise<void> {
  for (const needed of [...APP_PATHS, 'dist/electron/main/index.js', 'dist/renderer/index.html', ...RESOURCE_PATHS]) {
    if (!existsSync(path.join(root, needed)))
      throw new Error(`${needed} is missing: run \`npm run build && npm run build:console\` first`)
  }
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>
  const { name, version, description, license, type, main, bin, engines, dependencies, allowScripts } = pkg
  // productName names the app (its user-data folder, ~/.config/Cortex) as the installers do.
  const productName = 'Cortex'
  const appPackage = {
    name,
    productName,
    version,
    description,
    license,
    private: true,
    type,
    main,
    bin,
    engines,
    dependencies,
    allowScripts,
  }
  writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(appPackage, null, 2)}\n`)
  for (const p of [...APP_PATHS, ...RESOURCE_PATHS]) {
    cpSync(path.join(root, p), path.join(out, p), { recursive: true, filter: (src) => !src.endsWith('.map') })
  }
  for (const dir of packages ?? productionPackages(root)) {
    // dereference: a linked package becomes a copy, so nothing done to the copy reaches the checkout.
    cpSync(path.join(root, dir), path.join(out, dir), { recursive: true, dereference: true })
  }
  await rebuild(out)
}

/** The top-level node_modules folders of the production dependency tree, as package-lock.json records them. */
export function productionPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean }>
  }
  return (
    Object.entries(lock.packages)
      .filter(([key, entry]) => key.startsWith('node_modules/') && entry.dev !== true)
      .map(([key]) => key)
      // Nested packages come with the folder of the package that holds them.
      .filter((key) => !key.slice('node_modules/'.length).includes('/node_modules/'))
      .filter((key) => existsSync(path.join(root, key)))
  )
}

/**
 * @electron/rebuild, Electron's own tool (and what electron-builder's npmRebuild runs, so it comes with
 * electron-builder): Electron's prebuilt better-sqlite3, else a build against Electron's headers. An npm `nodedir`
 * setting (npm_config_nodedir, e.g. `nodedir=/usr` in ~/.npmrc for offline Node builds) would point node-gyp at Node's
 * headers instead and quietly build for Node, so it is taken out of the environment for the rebuild, and the result
 * is checked for Electron's ABI either way.
 */
export function electronRebuild(root: string, electronVersion: string): (out: string) => Promise<void> {
  return async (out) => {
    const { rebuild } = await import('@electron/rebuild')
    const saved = { ...process.env }
    for (const key of Object.keys(process.env)) if (key.toLowerCase() === 'npm_config_nodedir') delete process.env[key]
    try {
      await rebuild({ buildPath: out, electronVersion, onlyModules: ['better-sqlite3'], force: true })
    } catch (err) {
      throw new Error(
        `rebuilding better-sqlite3 for Electron ${electronVersion} failed (it downloads a prebuilt module or Electron's headers): ${(err as Error).message}`,
        { cause: err },
      )
    } finally {
      Object.assign(process.env, saved)
    }
    const want = readFileSync(path.join(root, 'node_modules/electron/abi_version'), 'utf8').trim()
    const got = moduleAbis(path.join(out, NATIVE_MODULE))
    if (!got.includes(want))
      throw new Error(
        `${NATIVE_MODULE} in ${out} is built for ABI ${got.join(', ') || 'unknown'}, not Electron ${electronVersion}'s ${want}`,
      )
  }
}

/** better-sqlite3's addon, relative to an app folder. */
export const NATIVE_MODULE = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'

/** The module ABIs a native addon registers for (its `node_register_module_v<abi>` symbol), read from its bytes. */
export function moduleAbis(file: string): string[] {
  const text = readFileSync(file).toString('latin1')
  return [...new Set([...text.matchAll(/node_register_module_v(\d+)/g)].map((m) => m[1]!))]
}

/** electron-builder.yml's electronVersion (one `key: value` line; a test keeps it equal to package.json's). */
export function builderElectronVersion(root: string): string {
  const match = /^electronVersion:\s*([\d.]+)\s*$/m.exec(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'))
  if (!match) throw new Error('electron-builder.yml has no electronVersion line')
  return match[1]!
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  const electronVersion = builderElectronVersion(root)
  await stageApp({ root, out: path.join(root, 'build', 'app'), rebuild: electronRebuild(root, electronVersion) })
  console.log(`staged the app in build/app, better-sqlite3 built for Electron ${electronVersion}`)
}
