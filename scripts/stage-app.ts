// Makes the staging copy electron-builder packages (`directories.app: build/app` in electron-builder.yml):
// `npx tsx scripts/stage-app.ts`, run by `npm run dist` after the build.
//
// Why a copy: native modules (better-sqlite3) must be built for Electron's ABI inside the app, and rebuilding the
// checkout's node_modules in place (electron-builder's npmRebuild) would leave `cortex serve` and the tests with a
// module Node cannot load. The copy takes the production dependencies exactly as package-lock.json has them
// installed here, and only the copy is rebuilt. The rebuild fetches Electron's prebuilt better-sqlite3 or Electron's
// headers, so it needs the network — at packaging time, never during `npm ci`.
import { spawn } from 'node:child_process'
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
}

/** What the app needs at run time, from the checkout: the build (dist/, with the console), the CLI, the recipes. */
const APP_PATHS = ['dist', 'bin', 'recipes']
/** Beside the code so an unpackaged run of the copy finds them as a package finds its extra resources. */
const RESOURCE_PATHS = ['resources/tray', 'resources/icon.png']

export async function stageApp({ root, out, rebuild }: StageOptions): Promise<void> {
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
  for (const dir of productionPackages(root)) {
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
 * Electron's documented way to build a native module for it with npm: the npm_config_* variables point
 * better-sqlite3's install (prebuild-install, else node-gyp) at Electron's runtime, version and headers.
 */
export function electronRebuild(electronVersion: string): (out: string) => Promise<void> {
  return (out) =>
    new Promise((resolve, reject) => {
      const child = spawn('npm', ['rebuild', 'better-sqlite3', '--foreground-scripts'], {
        cwd: out,
        stdio: 'inherit',
        env: {
          ...process.env,
          npm_config_runtime: 'electron',
          npm_config_target: electronVersion,
          npm_config_disturl: 'https://electronjs.org/headers',
        },
      })
      child.once('error', reject)
      child.once('exit', (code) =>
        code === 0
          ? resolve()
          : reject(
              new Error(
                `rebuilding better-sqlite3 for Electron ${electronVersion} failed (npm exit ${code}); it needs the network`,
              ),
            ),
      )
    })
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
  await stageApp({ root, out: path.join(root, 'build', 'app'), rebuild: electronRebuild(electronVersion) })
  console.log(`staged the app in build/app, better-sqlite3 built for Electron ${electronVersion}`)
}
