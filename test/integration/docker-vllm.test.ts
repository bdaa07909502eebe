import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import type { ModelDefinition } from '../../gateway/contract/index.js'
import { modelDefinition } from '../../gateway/contract/model.test-support.js'
import { bindPort, containerPlan, planHash } from '../../gateway/engines/backends/container.js'
import { createDockerRuntime } from '../../gateway/engines/docker/runtime.js'
import type { DockerRuntime, DockerRuntimeOptions } from '../../gateway/engines/docker/types.js'
import type { Driver, DriverHandle } from '../../gateway/engines/driver.js'
import { findExecutable } from '../../gateway/engines/process/os.js'
import { createSettings } from '../../gateway/services/settings.js'
import { memorySettingsRepo } from '../../gateway/store/settings.test-support.js'
import { dockerSuite, testDocker } from '../support/docker.js'

const suite = dockerSuite(inject('vllmStandin'))
const instance = `test-${randomBytes(4).toString('hex')}`
const hfCache = mkdtempSync(path.join(os.tmpdir(), 'cortex-hf-'))
const HF_TOKEN = `hf_cortexTest${randomBytes(8).toString('hex')}`
const SOURCE = 'Qwen/Qwen2.5-0.5B-Instruct'
/** Everything the runtimes logged, as pino wrote it: the token must never be in it. */
const logged: string[] = []
const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) })
const runtimes: DockerRuntime[] = []

const def = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({
    id: 'qwen-id',
    name: 'qwen',
    aliases: ['qwen-small', 'q'],
    engine: 'vllm',
    runtime: 'docker',
    source: SOURCE,
    args: ['--max-model-len', '4096'],
    queue: { size: 8, timeoutMs: 30_000 },
    startTimeoutMs: 60_000,
    gpus: 'none',
    image: suite.image ?? undefined,
    network: 'host',
    ...over,
  })

function runtime(opts: Partial<DockerRuntimeOptions> = {}): DockerRuntime {
  const rt = createDockerRuntime({ instance, logger, dockerHost: process.env.DOCKER_HOST, hasGpus: false, hfCache, ...opts })
  runtimes.push(rt)
  return rt
}

const context = () => {
  const lines: string[] = []
  return { lines, ctx: { replica: 0, log: (line: string) => lines.push(line) } }
}

const health = (driver: Driver, h: DriverHandle) => driver.probe(h.url, AbortSignal.timeout(5000))
const ready = (driver: Driver, h: DriverHandle, timeout = 60_000) =>
  expect.poll(() => health(driver, h).then((s) => s.status), { timeout, interval: 100 }).toBe('ready')

const own = () => testDocker().docker.listContainers({ all: true, filters: { label: [`ai.cortex.instance=${instance}`] } })

async function post(url: string, body: object): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

async function cleanUp(): Promise<void> {
  await Promise.all(runtimes.splice(0).map((rt) => rt.close()))
  // A failed test must not leave containers behind for the next one.
  for (const c of await own()) await testDocker().docker.getContainer(c.Id).remove({ force: true })
}

afterAll(() => rmSync(hfCache, { recursive: true, force: true }))

describe.skipIf(suite.skip !== null)(
  `the vLLM backend on the real Docker daemon, with the vLLM stand-in image${suite.skip ? ` — skipped: ${suite.skip}` : ''}`,
  () => {
    afterEach(cleanUp)

    it("runs the plan's command line under the image's `vllm serve`: down while loading, ready once loaded", async () => {
      // The stand-in loads until told otherwise (SIGUSR1), so "still loading" is a state, not a race with a timer.
      const d = def({ env: { STANDIN_LOAD_MS: '600000' } })
      const driver = runtime().driver(d)
      const { lines, ctx } = context()
      const h = await driver.start(ctx)
      const [c] = await own()
      const info = await testDocker().docker.getContainer(c!.Id).inspect()
      const plan = containerPlan(d, { hasGpus: false, hfCache })
      expect(info.Config.Entrypoint).toEqual(['vllm', 'serve'])
      expect(info.Config.Cmd).toEqual(bindPort(plan, Number(new URL(h.url).port)).cmd)
      expect(info.HostConfig.IpcMode).toBe('host')
      expect(info.Mounts).toMatchObject([{ Source: hfCache, Destination: '/root/.cache/huggingface', RW: true }])

      await expect.poll(() => lines.some((l) => l.includes(`Starting to load model ${SOURCE}`))).toBe(true)
      // vLLM binds its port without listening until the model is loaded: connections are refused meanwhile.
      expect(await health(driver, h)).toEqual({ status: 'down', reason: 'ECONNREFUSED' })

      await testDocker().docker.getContainer(c!.Id).kill({ signal: 'SIGUSR1' })
      await ready(driver, h)
      expect(lines.some((l) => l.includes(`Starting vLLM API server 0 on ${h.url}`))).toBe(true)

      await h.stop(5000)
      await expect(h.exited).resolves.toEqual({ code: 0, signal: null })
      expect(await own()).toEqual([])
    })

    it('answers as vLLM: every served name with max_model_len, chat and completions (streamed with usage), vllm:* metrics', async () => {
      const driver = runtime().driver(def())
      const h = await driver.start(context().ctx)
      await ready(driver, h)

      const models = (await (await fetch(`${h.url}/v1/models`)).json()) as { data: Array<Record<string, unknown>> }
      expect(models.data.map(({ id, root, max_model_len }) => ({ id, root, max_model_len }))).toEqual(
        ['qwen', 'qwen-small', 'q'].map((id) => ({ id, root: SOURCE, max_model_len: 4096 })),
      )

      const chat = await post(`${h.url}/v1/chat/completions`, {
        model: 'qwen-small',
        messages: [{ role: 'user', content: 'hello there' }],
        max_tokens: 3,
      })
      expect(chat.status).toBe(200)
      expect(await chat.json()).toMatchObject({
        object: 'chat.completion',
        model: 'qwen-small',
        choices: [{ message: { role: 'assistant', content: 'hello there hello' }, finish_reason: 'length' }],
        usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
      })

      const streamed = await post(`${h.url}/v1/completions`, {
        model: 'q',
        prompt: 'one two',
        max_tokens: 2,
        stream: true,
        stream_options: { include_usage: true },
      })
      expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/)
      const frames = (await streamed.text()).split('\n\n').filter(Boolean)
      expect(frames.at(-1)).toBe('data: [DONE]')
      const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.replace(/^data: /, '')) as Record<string, unknown>)
      expect(chunks.map((c) => c.choices)).toEqual([
        [expect.objectContaining({ text: 'one', finish_reason: null })],
        [expect.objectContaining({ text: ' two', finish_reason: 'length' })],
        [],
      ])
      expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 })

      const unknown = await post(`${h.url}/v1/chat/completions`, { model: 'nope', messages: [] })
      expect(unknown.status).toBe(404)

      const metrics = await (await fetch(`${h.url}/metrics`)).text()
      expect(metrics).toContain('vllm:num_requests_running{engine="0",model_name="qwen"} 0.0')
      expect(metrics).toContain('vllm:gpu_cache_usage_perc{')
      expect(metrics).toContain('vllm:prompt_tokens_total{engine="0",model_name="qwen"} 4.0')
      expect(metrics).toContain('vllm:generation_tokens_total{engine="0",model_name="qwen"} 5.0')

      await h.stop(5000)
      expect(await own()).toEqual([])
    })

    it("gives the container the settings' HF_TOKEN at each create, never in its labels, plan hash or any log", async () => {
      const settings = createSettings(memorySettingsRepo())
      settings.update({ hfToken: HF_TOKEN })
      const rt = runtime({ secretEnv: settings.secretEnv })
      const hash = planHash(containerPlan(def(), { hasGpus: false, hfCache }))

      const withToken = context()
      const driver = rt.driver(def())
      const h1 = await driver.start(withToken.ctx)
      await ready(driver, h1)
      const [c1] = await own()
      const info = await testDocker().docker.getContainer(c1!.Id).inspect()
      expect(info.Config.Env).toContain(`HF_TOKEN=${HF_TOKEN}`)
      expect(withToken.lines).toContainEqual(expect.stringMatching(/\[standin\] HF_TOKEN set$/))
      expect(c1!.Labels['ai.cortex.plan-hash']).toBe(hash)
      expect(JSON.stringify(c1!.Labels)).not.toContain(HF_TOKEN)
      expect(info.Config.Cmd?.join(' ')).not.toContain(HF_TOKEN)
      await h1.stop(5000)

      // Cleared in the settings: the next container starts without it, under the same plan hash.
      settings.update({ hfToken: null })
      const without = context()
      const h2 = await driver.start(without.ctx)
      await ready(driver, h2)
      const [c2] = await own()
      expect((await testDocker().docker.getContainer(c2!.Id).inspect()).Config.Env?.join('\n')).not.toContain('HF_TOKEN')
      expect(without.lines).toContainEqual(expect.stringMatching(/\[standin\] HF_TOKEN not set$/))
      expect(c2!.Labels['ai.cortex.plan-hash']).toBe(hash)
      await h2.stop(5000)

      expect(logged.length).toBeGreaterThan(0)
      expect([...logged, ...withToken.lines, ...without.lines].join('\n')).not.toContain(HF_TOKEN)
    })
  },
)

const REAL_IMAGE = 'vllm/vllm-openai:latest'

/** The real vLLM image needs an NVIDIA GPU, the image itself (no registry is assumed) and the weights in the HF cache
 *  (the container runs offline). Returns why the suite cannot run, or null. */
async function realVllmMissing(): Promise<string | null> {
  if (suite.skip !== null) return suite.skip
  if ((await findExecutable('nvidia-smi')) === null) return 'no NVIDIA GPU (nvidia-smi not found)'
  const image = await testDocker()
    .docker.getImage(REAL_IMAGE)
    .inspect()
    .then(
      () => true,
      () => false,
    )
  if (!image) return `${REAL_IMAGE} is not on this machine (docker pull ${REAL_IMAGE})`
  if (!existsSync(path.join(hostHfCache(), 'hub', `models--${SOURCE.replace('/', '--')}`))) {
    return `${SOURCE} is not in ${hostHfCache()} (huggingface-cli download ${SOURCE})`
  }
  return null
}

function hostHfCache(): string {
  return process.env.HF_HOME ?? path.join(os.homedir(), '.cache', 'huggingface')
}

const realMissing = await realVllmMissing()

describe.skipIf(realMissing !== null)(
  `the real vLLM image on an NVIDIA GPU${realMissing ? ` — skipped: ${realMissing}` : ''}`,
  () => {
    afterEach(cleanUp)

    it('starts the default vLLM image with the plan, serves every name, a chat completion and vllm:* metrics', async () => {
      const real = def({
        image: undefined,
        gpus: 'all',
        args: ['--max-model-len', '2048', '--gpu-memory-utilization', '0.3', '--enforce-eager'],
        env: { HF_HUB_OFFLINE: '1' },
      })
      const driver = runtime({ hasGpus: true, hfCache: hostHfCache() }).driver(real)
      const { lines, ctx } = context()
      const h = await driver.start(ctx)
      await ready(driver, h, 600_000)

      const models = (await (await fetch(`${h.url}/v1/models`)).json()) as { data: Array<{ id: string; max_model_len: number }> }
      expect(models.data.map((m) => [m.id, m.max_model_len])).toEqual([
        ['qwen', 2048],
        ['qwen-small', 2048],
        ['q', 2048],
      ])
      const chat = await post(`${h.url}/v1/chat/completions`, {
        model: 'q',
        messages: [{ role: 'user', content: 'Say hi.' }],
        max_tokens: 8,
      })
      expect(chat.status).toBe(200)
      expect(await chat.json()).toMatchObject({ model: 'q', usage: { completion_tokens: expect.any(Number) } })
      expect(await (await fetch(`${h.url}/metrics`)).text()).toMatch(/^vllm:num_requests_running\{/m)
      expect(lines.some((l) => l.includes('Starting vLLM API server'))).toBe(true)

      await h.stop(30_000)
      expect(await own()).toEqual([])
    }, 900_000)
  },
)
