import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { CortexInfo } from '../contract/console.js'
import type { DockerStatus } from '../contract/index.js'
import { findExecutable } from '../engines/process/os.js'

/** What createCore knows of itself that the first-run screen shows. */
export interface CortexFacts {
  dataDir: string
  /** `engines.llamaServer` (or CORTEX_LLAMA_SERVER); null: `llama-server` on PATH, as the process driver looks. */
  llamaServer: string | null
  docker: () => DockerStatus
}

export const LLAMA_SERVER_HOW_TO_GET =
  'Install llama.cpp (it includes llama-server): `brew install llama.cpp` on macOS or Linux with Homebrew, `winget ' +
  'install llama.cpp` on Windows, or a build from https://github.com/ggml-org/llama.cpp/releases. Put llama-server on ' +
  'PATH, or give its path as engines.llamaServer in the config file or CORTEX_LLAMA_SERVER, then restart Cortex.'

/** Cortex's own version: package.json above this file (gateway/system/ in the source, dist/gateway/system/ built). */
export function cortexVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'cortex' && typeof pkg.version === 'string') return pkg.version
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  throw new Error(`Cortex's package.json is missing (none above ${fileURLToPath(import.meta.url)})`)
}

/** The line `llama-server --version` prints as `version: 7123 (a1b2c3d)`; null when it says none in 5 s. */
export function llamaServerVersion(bin: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 5000, windowsHide: true }, (_err, stdout, stderr) => {
      // Builds differ in which stream they print it on, and some exit non-zero after printing it.
      const m = /^version: (.+)$/m.exec(`${stdout}\n${stderr}`)
      resolve(m ? m[1]!.trim() : null)
    })
  })
}

/**
 * Cortex's facts for `GET /admin/api/system`. llama-server is looked for at each call until found (a person may
 * install it while the first-run screen is open), and its version is asked once per path.
 */
export function cortexInfoReader(facts: CortexFacts): () => Promise<CortexInfo> {
  const version = cortexVersion()
  const versions = new Map<string, Promise<string | null>>()
  return async () => {
    const path = await findExecutable(facts.llamaServer ?? 'llama-server')
    let llamaVersion: string | null = null
    if (path !== null) {
      if (!versions.has(path)) versions.set(path, llamaServerVersion(path))
      llamaVersion = await versions.get(path)!
    }
    return {
      version,
      dataDir: facts.dataDir,
      llamaServer: { found: path !== null, path, version: llamaVersion, howToGet: LLAMA_SERVER_HOW_TO_GET },
      docker: facts.docker(),
    }
  }
}
