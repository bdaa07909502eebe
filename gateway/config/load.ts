import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ConfigFile } from '../contract/index.js'
import { ConfigError } from './issues.js'
import type { ConfigIssue } from './types.js'
import { buildConfig } from './normalize.js'
import { defaultDataDir } from './paths.js'
import { routeProblems } from './route-rules.js'
import { crossFieldProblems, serverProblems } from './rules.js'
import { schemaProblems } from './schema.js'
import type { CliFlags, CortexConfig } from './types.js'
import { parseYaml } from './yaml.js'

export { ConfigError } from './issues.js'

export interface LoadConfigOptions {
  flags: CliFlags
  env: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
  homedir?: string
  cwd?: string
}

/**
 * flags > environment > file > defaults; validated, normalized and deep-frozen.
 * Throws one ConfigError listing every problem found (file:line, path, what was expected).
 */
export function loadConfig(options: LoadConfigOptions): CortexConfig {
  const { flags, env, platform = process.platform, homedir = os.homedir(), cwd = process.cwd() } = options
  const named = flags.config
    ? { file: flags.config, by: '--config' }
    : env.CORTEX_CONFIG
      ? { file: env.CORTEX_CONFIG, by: 'CORTEX_CONFIG' }
      : null
  const configPath = named && path.resolve(cwd, named.file)
  const port = portOverride(flags, env)
  const read = named && configPath ? readConfigFile(configPath, named, env) : { file: {}, issues: [] }
  const issues = [...read.issues, ...(port.issue ? [port.issue] : [])]
  if (issues.length > 0) throw new ConfigError(sortByLine(issues))

  const overrides = {
    configPath,
    dataDir: path.resolve(cwd, flags.dataDir || env.CORTEX_DATA_DIR || defaultDataDir(platform, env, homedir)),
    host: flags.host || env.CORTEX_HOST || undefined,
    port: port.value,
    allowRemote: flags.allowRemote,
    llamaServer: env.CORTEX_LLAMA_SERVER || undefined,
  }
  const baseDir = configPath ? path.dirname(configPath) : cwd
  return deepFreeze(buildConfig(read.file, overrides, { baseDir, cwd, env, exists: fs.existsSync }))
}

interface ReadResult {
  file: ConfigFile
  issues: ConfigIssue[]
}

/** Parse, check the schema, then the cross-field rules; every problem is placed at its line. */
function readConfigFile(configPath: string, named: { file: string; by: string }, env: NodeJS.ProcessEnv): ReadResult {
  const text = readText(configPath, named.by)
  const at = (p: { path: string; expected: string; line: number | null }): ConfigIssue => ({ file: named.file, ...p })
  if (typeof text !== 'string') return { file: {}, issues: [at({ path: '', line: null, expected: text.problem })] }
  const parsed = parseYaml(text)
  if (parsed.syntaxErrors.length > 0) {
    return { file: {}, issues: parsed.syntaxErrors.map((e) => at({ path: '', line: e.line, expected: e.message })) }
  }
  const value = parsed.value ?? {}
  const models = typeof value === 'object' && value !== null ? (value as { models?: unknown }).models : undefined
  const server = typeof value === 'object' && value !== null ? (value as { server?: unknown }).server : undefined
  const routes = typeof value === 'object' && value !== null ? (value as { routes?: unknown }).routes : undefined
  const problems = [
    ...schemaProblems(value),
    ...crossFieldProblems(models, env),
    ...routeProblems(routes, models),
    ...serverProblems(server),
  ]
  return { file: value as ConfigFile, issues: problems.map((p) => at({ ...p, line: parsed.lineOf(p.path) })) }
}

/** The file's text, or why it cannot be read, naming the path: start-up stops on it like on any other problem. */
function readText(file: string, by: string): string | { problem: string } {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'expected a config file, but this path is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'config file cannot be read: permission denied'
            : `config file cannot be read (${code ?? (err as Error).message})`
    return { problem: `${why}: ${file} (named by ${by})` }
  }
}

/** --port, else CORTEX_PORT; either must be a whole number from 0 to 65535. */
function portOverride(flags: CliFlags, env: NodeJS.ProcessEnv): { value?: number; issue?: ConfigIssue } {
  const [source, raw] = flags.port !== undefined ? ['--port', flags.port] : ['CORTEX_PORT', env.CORTEX_PORT]
  if (raw === undefined || raw === '') return {}
  const value = typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (Number.isInteger(value) && value >= 0 && value <= 65535) return { value }
  return {
    issue: {
      file: source,
      path: '',
      line: null,
      expected: `expected a port number from 0 to 65535 (got ${JSON.stringify(raw)})`,
    },
  }
}

/** File issues in line order; flag and environment issues (no line) after them. */
function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  const line = (i: ConfigIssue) => i.line ?? Number.MAX_SAFE_INTEGER
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => line(a.issue) - line(b.issue) || a.order - b.order)
    .map((x) => x.issue)
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
