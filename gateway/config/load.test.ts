import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, type LoadConfigOptions } from './load.js'
import { formatIssue } from './issues.js'
import type { CliFlags } from './types.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-config-'))
})
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const base = { platform: 'linux' as const, homedir: '/home/ada' }

function write(yaml: string, name = 'cortex.yaml'): string {
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, yaml)
  return file
}

function load(yaml: string | null, env: NodeJS.ProcessEnv = {}, flags: CliFlags = {}, extra: Partial<LoadConfigOptions> = {}) {
  if (yaml !== null) write(yaml)
  return loadConfig({ ...base, cwd: dir, env, flags: { ...(yaml !== null && { config: 'cortex.yaml' }), ...flags }, ...extra })
}

/** The formatted issues of a config that must fail. */
function problems(yaml: string, env: NodeJS.ProcessEnv = {}, flags: CliFlags = {}): string[] {
  try {
    load(yaml, env, flags)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    expect(err.message).toBe(
      `invalid configuration (${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}):\n` +
        err.issues.map((i) => `  ${formatIssue(i)}`).join('\n'),
    )
    return err.issues.map(formatIssue)
  }
  throw new Error('expected a ConfigError')
}

const llama = (extra = '') => `models:\n  - name: m\n    engine: llamacpp\n    runtime: process\n    source: m.gguf\n${extra}`

describe('loadConfig defaults', () => {
  it('needs no config file and fills every default', () => {
    expect(load(null)).toEqual({
      configPath: null,
      dataDir: '/home/ada/.local/share/cortex',
      server: {
        host: '127.0.0.1',
        port: 31313,
        allowedHosts: [],
        corsOrigins: [],
        bodyLimit: 64 * 1024 * 1024,
        shutdownTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        maxConnectionsPerClient: 1024,
        trustProxy: false,
        allowRemote: false,
      },
      auth: { required: true, allowLoopbackWithoutKey: false },
      limits: { redis: null },
      cache: { redis: null },
      metrics: { port: null },
      logging: { prompts: false, level: 'info', format: 'auto' },
      engines: { stopOnExit: true, llamaServer: null },
      models: [],
      routes: [],
    })
  })

  it('reads an empty file as no settings', () => {
    expect(load('').models).toEqual([])
    expect(load('# only a comment\n').configPath).toBe(path.join(dir, 'cortex.yaml'))
  })

  it('fills model defaults and marks file models origin config', () => {
    expect(load(llama()).models).toEqual([
      {
        name: 'm',
        aliases: [],
        engine: 'llamacpp',
        runtime: 'process',
        source: path.join(dir, 'm.gguf'),
        args: [],
        env: {},
        replicas: 1,
        ttlMs: 0,
        pinned: false,
        queue: { size: 32, timeoutMs: 60_000 },
        startTimeoutMs: 300_000,
        gpus: 'all',
        baseUrls: [],
        origin: 'config',
      },
    ])
  })

  it('normalizes durations to ms and sizes to bytes', () => {
    const config = load(
      'server: { bodyLimit: 1.5GB, shutdownTimeout: 500ms }\n' +
        llama(
          '    ttl: 30m\n    queue: { size: 4, timeout: 90 }\n    startTimeout: 2h\n    maxConcurrent: 3\n    gpus: [0, GPU-abc]\n',
        ),
    )
    expect(config.server).toMatchObject({ bodyLimit: 1_500_000_000, shutdownTimeoutMs: 500 })
    expect(config.models[0]).toMatchObject({
      ttlMs: 1_800_000,
      queue: { size: 4, timeoutMs: 90_000 },
      startTimeoutMs: 7_200_000,
      maxConcurrent: 3,
      gpus: [0, 'GPU-abc'],
    })
  })

  it('reads a remote model: one base URL per replica, the key from the environment', () => {
    const config = load(
      'models:\n  - name: team\n    engine: openai\n    runtime: remote\n    baseUrl: [http://a:8000/v1, https://b/v1]\n    apiKeyEnv: TEAM_KEY\n    upstreamModel: Qwen/Qwen2.5-72B-Instruct\n',
      { TEAM_KEY: 'sk-team' },
    )
    expect(config.models[0]).toMatchObject({
      baseUrls: ['http://a:8000/v1', 'https://b/v1'],
      apiKey: 'sk-team',
      upstreamModel: 'Qwen/Qwen2.5-72B-Instruct',
    })
    expect(
      load('models:\n  - { name: r, engine: vllm, runtime: remote, baseUrl: http://x/v1, apiKey: k }\n').models[0],
    ).toMatchObject({
      baseUrls: ['http://x/v1'],
      apiKey: 'k',
    })
  })

  it('returns a deeply frozen configuration', () => {
    const config = load(llama('    args: ["-c", "8192"]\n    env: { A: b }\n'))
    const model = config.models[0]!
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.server)).toBe(true)
    expect(Object.isFrozen(model.args)).toBe(true)
    expect(Object.isFrozen(model.env)).toBe(true)
    expect(() => (model.args as string[]).push('x')).toThrow(TypeError)
  })
})

describe('loadConfig precedence', () => {
  const file = 'server: { host: 10.0.0.1, port: 4000 }\nengines: { llamaServer: /opt/file/llama-server }\n'
  const env = {
    CORTEX_HOST: '10.0.0.2',
    CORTEX_PORT: '5000',
    CORTEX_DATA_DIR: '/env/data',
    CORTEX_LLAMA_SERVER: '/env/llama-server',
  }
  const flags = { host: '10.0.0.3', port: 6000, dataDir: '/flag/data' }

  it.each([
    ['defaults', null, {}, {}, { host: '127.0.0.1', port: 31313, dataDir: '/home/ada/.local/share/cortex', llamaServer: null }],
    [
      'file over defaults',
      file,
      {},
      {},
      { host: '10.0.0.1', port: 4000, dataDir: '/home/ada/.local/share/cortex', llamaServer: '/opt/file/llama-server' },
    ],
    [
      'environment over file (llamaServer: file over environment)',
      file,
      env,
      {},
      { host: '10.0.0.2', port: 5000, dataDir: '/env/data', llamaServer: '/opt/file/llama-server' },
    ],
    [
      'environment when the file is silent',
      '',
      env,
      {},
      { host: '10.0.0.2', port: 5000, dataDir: '/env/data', llamaServer: '/env/llama-server' },
    ],
    [
      'flags over environment',
      file,
      env,
      flags,
      { host: '10.0.0.3', port: 6000, dataDir: '/flag/data', llamaServer: '/opt/file/llama-server' },
    ],
  ] as const)('%s', (_name, yaml, e, f, expected) => {
    const config = load(yaml, e, f)
    expect({
      host: config.server.host,
      port: config.server.port,
      dataDir: config.dataDir,
      llamaServer: config.engines.llamaServer,
    }).toEqual(expected)
  })

  it('takes the config file from --config over CORTEX_CONFIG', () => {
    write('server: { port: 1111 }\n', 'flag.yaml')
    write('server: { port: 2222 }\n', 'env.yaml')
    const opts = { ...base, cwd: dir }
    expect(loadConfig({ ...opts, flags: { config: 'flag.yaml' }, env: { CORTEX_CONFIG: 'env.yaml' } }).server.port).toBe(1111)
    const fromEnv = loadConfig({ ...opts, flags: {}, env: { CORTEX_CONFIG: 'env.yaml' } })
    expect(fromEnv.server.port).toBe(2222)
    expect(fromEnv.configPath).toBe(path.join(dir, 'env.yaml'))
  })

  it('resolves relative --data-dir and CORTEX_DATA_DIR from the working directory', () => {
    expect(load(null, {}, { dataDir: 'data' }).dataDir).toBe(path.join(dir, 'data'))
    expect(load(null, { CORTEX_DATA_DIR: 'envdata' }).dataDir).toBe(path.join(dir, 'envdata'))
  })

  it('uses the platform default data directory', () => {
    expect(load(null, { XDG_DATA_HOME: '/xdg' }).dataDir).toBe('/xdg/cortex')
    expect(load(null, {}, {}, { platform: 'darwin', homedir: '/Users/ada' }).dataDir).toBe(
      '/Users/ada/Library/Application Support/Cortex',
    )
  })

  it('passes --allow-remote through', () => {
    expect(load(null, {}, { allowRemote: true }).server.allowRemote).toBe(true)
  })
})

describe('loadConfig relative paths', () => {
  it('resolves source and llamaServer from the config file folder, not the working directory', () => {
    const file = write(
      'engines: { llamaServer: ./bin/llama-server }\n' +
        'models:\n  - { name: m, engine: llamacpp, runtime: process, source: ../models/m.gguf }\n',
      'conf/cortex.yaml',
    )
    const config = loadConfig({ ...base, cwd: '/somewhere/else', env: {}, flags: { config: file } })
    expect(config.engines.llamaServer).toBe(path.join(dir, 'conf/bin/llama-server'))
    expect(config.models[0]!.source).toBe(path.join(dir, 'models/m.gguf'))
  })

  it('keeps a bare llamaServer command name for the PATH lookup', () => {
    expect(load('engines: { llamaServer: llama-server-cuda }\n').engines.llamaServer).toBe('llama-server-cuda')
  })

  it('resolves a relative CORTEX_LLAMA_SERVER from the working directory', () => {
    expect(load(null, { CORTEX_LLAMA_SERVER: 'build/llama-server' }).engines.llamaServer).toBe(
      path.join(dir, 'build/llama-server'),
    )
  })

  it('keeps a vLLM org/name source as a repo id unless that local path exists', () => {
    const vllm = (source: string) => `models:\n  - { name: v, engine: vllm, runtime: process, source: ${source} }\n`
    expect(load(vllm('Qwen/Qwen2.5-7B-Instruct')).models[0]!.source).toBe('Qwen/Qwen2.5-7B-Instruct')
    fs.mkdirSync(path.join(dir, 'local/model'), { recursive: true })
    expect(load(vllm('local/model')).models[0]!.source).toBe(path.join(dir, 'local/model'))
    expect(load(vllm('./weights')).models[0]!.source).toBe(path.join(dir, 'weights'))
  })

  it('treats an org/name source of llama.cpp as a path', () => {
    expect(load(llama().replace('m.gguf', 'org/m.gguf')).models[0]!.source).toBe(path.join(dir, 'org/m.gguf'))
  })
})

describe('loadConfig errors', () => {
  it('says which config file was not found and who named it', () => {
    expect(problems('', {}, { config: 'missing.yaml' })).toEqual([
      `missing.yaml: config file not found: ${path.join(dir, 'missing.yaml')} (named by --config)`,
    ])
    expect(() => loadConfig({ ...base, cwd: dir, flags: {}, env: { CORTEX_CONFIG: '/nope/cortex.yaml' } })).toThrow(
      '/nope/cortex.yaml: config file not found: /nope/cortex.yaml (named by CORTEX_CONFIG)',
    )
  })

  it('names a config path that is a directory, or cannot be read, instead of failing with a bare errno', () => {
    fs.mkdirSync(path.join(dir, 'conf.d'))
    expect(problems('', {}, { config: 'conf.d' })).toEqual([
      `conf.d: expected a config file, but this path is a directory: ${path.join(dir, 'conf.d')} (named by --config)`,
    ])
    const locked = write('server: {}\n', 'locked.yaml')
    fs.chmodSync(locked, 0o000)
    // root reads any file whatever its mode; the refusal can only be seen as another user.
    if (process.getuid?.() !== 0)
      expect(problems('', {}, { config: 'locked.yaml' })).toEqual([
        `locked.yaml: config file cannot be read: permission denied: ${locked} (named by --config)`,
      ])
  })

  it('stops a YAML alias bomb at its first alias, and a file over 1 MiB before parsing it', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10)
          .fill(`*${'abcdefghij'[i - 1]}`)
          .join(',')}]`,
      )
    const [issue, ...rest] = problems(bomb.join('\n') + '\n')
    expect(rest).toEqual([])
    expect(issue).toMatch(
      /^cortex\.yaml:2: expected at most 100 alias expansions \(\*name\) in all, .*write the values out instead$/,
    )
    expect(problems(`# ${'x'.repeat(1024 * 1024)}\n`)).toEqual(['cortex.yaml:1: expected at most 1 MiB of YAML (got 1.0 MiB)'])
  })

  it('sets the request deadlines and the connection cap, and refuses a headers deadline past the whole request', () => {
    const yaml = 'server: { headersTimeout: 5s, requestTimeout: 1m, maxConnectionsPerClient: 8, trustProxy: true }\n'
    expect(load(yaml).server).toMatchObject({
      headersTimeoutMs: 5000,
      requestTimeoutMs: 60_000,
      maxConnectionsPerClient: 8,
      trustProxy: true,
    })
    expect(load('server: { headersTimeout: 0, requestTimeout: 0 }\n').server).toMatchObject({
      headersTimeoutMs: 0,
      requestTimeoutMs: 0,
    })
    expect(problems('server: { headersTimeout: 1m }\n')).toEqual([
      'cortex.yaml:1 server.headersTimeout: expected headersTimeout (60s) to be at most requestTimeout (30s): the headers are part of the request',
    ])
    expect(problems('server:\n  requestTimeout: 2s\n')).toEqual([
      'cortex.yaml:2 server.requestTimeout: expected headersTimeout (10s) to be at most requestTimeout (2s): the headers are part of the request',
    ])
    expect(problems('server: { maxConnectionsPerClient: 0 }\n')).toEqual([
      'cortex.yaml:1 server.maxConnectionsPerClient: expected an integer >= 1 (got 0)',
    ])
  })

  it('reports YAML syntax errors with their line', () => {
    expect(problems('server:\n  port: 1\n  port: 2\n')).toEqual(['cortex.yaml:3: Map keys must be unique'])
  })

  it('reports a file that is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual(['cortex.yaml:1: expected a mapping (got a list)'])
  })

  it('phrases schema errors for a person, each at its line', () => {
    const yaml = [
      'server:',
      '  port: high', // 2
      '  bodyLimit: 64 MiBs', // 3
      '  colour: blue', // 4
      'logging: { level: loud }', // 5
      'metrics: { port: 0 }', // 6
      'models:',
      '  - name: qwen', // 8
      '    engine: llama', // 9
      '    runtime: process',
      '    source: q.gguf',
      '    ttl: 5 minutes', // 12
      '    gpus: some', // 13
      '    replicas: 0', // 14
      '    pinned: "yes"', // 15
      '    queue: { size: -1, timeout: 3x }', // 16
      '  - engine: vllm', // 17
      '    runtime: docker',
      '    image: 5', // 19
      '    baseUrl: [ftp://x]', // 20
      '  - 42', // 21
      '',
    ].join('\n')
    expect(problems(yaml)).toEqual([
      'cortex.yaml:2 server.port: expected an integer from 0 to 65535 (got "high")',
      'cortex.yaml:3 server.bodyLimit: expected a size like 64MiB, 512KB, 1GiB (got "64 MiBs")',
      'cortex.yaml:4 server.colour: unknown key "colour" (allowed: host, port, allowedHosts, cors, bodyLimit, shutdownTimeout, headersTimeout, requestTimeout, maxConnectionsPerClient, trustProxy)',
      'cortex.yaml:5 logging.level: expected one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'cortex.yaml:6 metrics.port: expected an integer from 1 to 65535 or null (got 0)',
      'cortex.yaml:9 models[0].engine: expected one of llamacpp, vllm, openai (got "llama")',
      'cortex.yaml:12 models[0].ttl: expected a duration like 30s, 30m, 2h (got "5 minutes")',
      'cortex.yaml:13 models[0].gpus: expected "all", "none" or a list of GPU indexes or UUIDs (got "some")',
      'cortex.yaml:14 models[0].replicas: expected an integer from 1 to 64 (got 0)',
      'cortex.yaml:15 models[0].pinned: expected true or false (got "yes")',
      'cortex.yaml:16 models[0].queue.size: expected an integer >= 0 (got -1)',
      'cortex.yaml:16 models[0].queue.timeout: expected a duration like 30s, 30m, 2h (got "3x")',
      'cortex.yaml:17 models[1]: missing required key "name"',
      'cortex.yaml:19 models[1].image: expected a non-empty string or null (got 5)',
      'cortex.yaml:20 models[1].baseUrl: expected an http:// or https:// URL, or a list of them (one replica each) (got a list)',
      'cortex.yaml:21 models[2]: expected a mapping (got 42)',
    ])
  })

  it('collects every problem, past TypeBox default limit of 8', () => {
    const keys = Array.from({ length: 12 }, (_, i) => `  k${i}: 1`).join('\n')
    expect(problems(`server:\n${keys}\n`)).toHaveLength(12)
  })

  it('lists the allowed keys of a model', () => {
    expect(problems(llama('    contextSize: 8192\n'))).toEqual([
      'cortex.yaml:6 models[0].contextSize: unknown key "contextSize" (allowed: name, aliases, engine, runtime, source, args, env, replicas, ttl, pinned, swapGroup, schedule, preload, drainTimeout, maxConcurrent, queue, startTimeout, gpus, image, network, baseUrl, apiKey, apiKeyEnv, upstreamModel, cache)',
    ])
  })

  it('rejects duplicate names and aliases across models, case-sensitively', () => {
    const yaml =
      'models:\n' +
      '  - { name: qwen, aliases: [q, Qwen], engine: llamacpp, runtime: process, source: a.gguf }\n' +
      '  - { name: q, engine: llamacpp, runtime: process, source: b.gguf }\n' +
      '  - { name: other, aliases: [qwen, other], engine: llamacpp, runtime: process, source: c.gguf }\n'
    expect(problems(yaml)).toEqual([
      'cortex.yaml:3 models[1].name: name "q" is already used by models[0] (qwen); names and aliases must be unique',
      'cortex.yaml:4 models[2].aliases[0]: alias "qwen" is already used by models[0] (qwen); names and aliases must be unique',
      'cortex.yaml:4 models[2].aliases[1]: alias "other" is already used by models[2] (other); names and aliases must be unique',
    ])
  })

  it('names an engine × runtime pair that does not exist', () => {
    expect(problems('models:\n  - name: o\n    engine: openai\n    runtime: process\n')).toEqual([
      'cortex.yaml:4 models[0].runtime: engine openai cannot run on runtime process (openai×process); use one of docker, remote',
    ])
  })

  it('requires source for llamacpp and vllm started by Cortex, and refuses it on remote', () => {
    expect(
      problems('models:\n  - { name: a, engine: llamacpp, runtime: process }\n  - { name: b, engine: vllm, runtime: process }\n'),
    ).toEqual([
      'cortex.yaml:2 models[0]: missing required key "source": llamacpp on runtime process needs the path of a GGUF file',
      'cortex.yaml:3 models[1]: missing required key "source": vllm on runtime process needs a Hugging Face repo id or a local model directory',
    ])
    expect(problems('models:\n  - { name: a, engine: vllm, runtime: remote, baseUrl: "http://x/v1", source: x }\n')).toEqual([
      'cortex.yaml:2 models[0].source: runtime remote does not use "source" (the remote endpoint serves its own model); remove it',
    ])
  })

  it('accepts docker models, needs an image for openai on docker, and keeps network to docker', () => {
    const docker = load('models:\n  - { name: a, engine: llamacpp, runtime: docker, source: ./m.gguf, network: bridge }\n')
    expect(docker.models[0]).toMatchObject({ runtime: 'docker', network: 'bridge', source: path.join(dir, 'm.gguf') })
    expect(problems('models:\n  - { name: o, engine: openai, runtime: docker }\n')).toEqual([
      'cortex.yaml:2 models[0]: missing required key "image": engine openai on runtime docker runs the image you name (it has no default)',
    ])
    expect(problems(llama('    network: host\n'))).toEqual([
      'cortex.yaml:6 models[0].network: runtime process does not use "network" (it is how a container reaches its port); remove it',
    ])
  })

  it('requires baseUrl on remote and refuses it elsewhere, like image outside docker', () => {
    expect(problems('models:\n  - name: r\n    engine: openai\n    runtime: remote\n')).toEqual([
      'cortex.yaml:2 models[0]: missing required key "baseUrl": runtime remote needs the endpoint\'s URL, including /v1',
    ])
    expect(problems(llama('    baseUrl: http://x/v1\n    image: my/image\n'))).toEqual([
      'cortex.yaml:6 models[0].baseUrl: runtime process does not use "baseUrl" (Cortex starts the engine itself); remove it or use runtime remote',
      'cortex.yaml:7 models[0].image: runtime process does not use "image"; remove it or use runtime docker',
    ])
  })

  it('rejects flags Cortex manages, in both --flag value and --flag=value forms, and says why', () => {
    const args =
      '    args: ["--port", "8080", "--host=0.0.0.0", "-m", "x.gguf", "--model=y", "--alias", "a", "-a", "b", "-c", "8192"]\n'
    expect(problems(llama(args))).toEqual([
      'cortex.yaml:6 models[0].args[0]: "--port" is managed by Cortex: it picks a free port for each replica (write ${PORT} where another flag needs that port); remove it',
      'cortex.yaml:6 models[0].args[2]: "--host" is managed by Cortex: it binds engines to 127.0.0.1, behind the gateway; remove it',
      'cortex.yaml:6 models[0].args[3]: "-m" is managed by Cortex: it passes "source" as the model; remove it',
      'cortex.yaml:6 models[0].args[5]: "--model" is managed by Cortex: it passes "source" as the model; remove it',
      'cortex.yaml:6 models[0].args[6]: "--alias" is managed by Cortex: it passes the model\'s name and aliases, so responses carry the name clients asked for; remove it',
      'cortex.yaml:6 models[0].args[8]: "-a" is managed by Cortex: it passes the model\'s name and aliases, so responses carry the name clients asked for; remove it',
    ])
  })

  it('keeps ${PORT} in args literally', () => {
    expect(load(llama('    args: ["--metrics-port", "${PORT}", "-c", "8192"]\n')).models[0]!.args).toEqual([
      '--metrics-port',
      '${PORT}',
      '-c',
      '8192',
    ])
  })

  it('refuses apiKey with apiKeyEnv, and an apiKeyEnv variable that is not set', () => {
    const remote = (keys: string) =>
      `models:\n  - name: r\n    engine: openai\n    runtime: remote\n    baseUrl: http://x/v1\n${keys}`
    expect(problems(remote('    apiKey: k\n    apiKeyEnv: K\n'), { K: 'v' })).toEqual([
      'cortex.yaml:7 models[0].apiKeyEnv: set either "apiKey" or "apiKeyEnv", not both',
    ])
    expect(problems(remote('    apiKeyEnv: TEAM_VLLM_KEY\n'), { TEAM_VLLM_KEY: '' })).toEqual([
      'cortex.yaml:6 models[0].apiKeyEnv: environment variable TEAM_VLLM_KEY is not set (named by apiKeyEnv)',
    ])
  })

  it('rejects a port from the command line or environment outside 0-65535, with the file problems', () => {
    expect(problems('server: { port: x }\n', { CORTEX_PORT: 'http' })).toEqual([
      'cortex.yaml:1 server.port: expected an integer from 0 to 65535 (got "x")',
      'CORTEX_PORT: expected a port number from 0 to 65535 (got "http")',
    ])
    expect(problems('', {}, { port: 70000 })).toEqual(['--port: expected a port number from 0 to 65535 (got 70000)'])
  })
})
