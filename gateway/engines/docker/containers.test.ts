import { describe, expect, it } from 'vitest'
import { modelDefinition } from '../../contract/model.test-support.js'
import { bindPort, containerPlan } from '../backends/container.js'
import { adoptablePort, containerName, createOptions } from './containers.js'

const def = modelDefinition({ id: 'm-7', name: 'Qwen/Qwen2.5:7b', runtime: 'docker', source: '/data/q.gguf', gpus: [0] })
const who = { instance: 'inst-1', def, replica: 1, planHash: 'h'.repeat(64), port: 41000 }
const LABELS = {
  'ai.cortex.managed': 'true',
  'ai.cortex.instance': 'inst-1',
  'ai.cortex.model': 'm-7',
  'ai.cortex.replica': '1',
  'ai.cortex.plan-hash': 'h'.repeat(64),
  'ai.cortex.port': '41000',
}

describe('containerName', () => {
  it('keeps what Docker allows in a name and dashes the rest', () => {
    expect(containerName('inst-1', 'Qwen/Qwen2.5:7b', 1)).toBe('cortex-inst-1-Qwen-Qwen2.5-7b-1')
  })
})

describe('createOptions', () => {
  it('host networking: labels, the bound command, mounts, GPUs, and the secrets only in the environment', () => {
    const plan = bindPort(containerPlan(def, { hasGpus: true, hfCache: '/hf' }), 41000)
    expect(createOptions(plan, who, { HF_TOKEN: 'hf_secret' })).toEqual({
      name: 'cortex-inst-1-Qwen-Qwen2.5-7b-1',
      Image: 'ghcr.io/ggml-org/llama.cpp:server-cuda',
      Cmd: ['-m', '/models/q.gguf', '--host', '127.0.0.1', '--port', '41000', '--alias', 'Qwen/Qwen2.5:7b', '--metrics'],
      Env: ['HF_TOKEN=hf_secret'],
      Labels: LABELS,
      ExposedPorts: undefined,
      HostConfig: {
        NetworkMode: 'host',
        PortBindings: undefined,
        Mounts: [{ Type: 'bind', Source: '/data/q.gguf', Target: '/models/q.gguf', ReadOnly: true }],
        DeviceRequests: [{ DeviceIDs: ['0'], Capabilities: [['gpu']] }],
        IpcMode: undefined,
      },
    })
  })

  it('bridge networking publishes the port on 127.0.0.1 only; vLLM shares the host IPC namespace', () => {
    const vllm = modelDefinition({ ...def, engine: 'vllm', source: 'Qwen/Qwen2.5-7B', network: 'bridge', gpus: 'none' })
    const opts = createOptions(bindPort(containerPlan(vllm, { hasGpus: true, hfCache: '/hf' }), 41000), who, {})
    expect(opts.ExposedPorts).toEqual({ '41000/tcp': {} })
    expect(opts.HostConfig).toMatchObject({
      NetworkMode: 'bridge',
      PortBindings: { '41000/tcp': [{ HostIp: '127.0.0.1', HostPort: '41000' }] },
      DeviceRequests: [],
      IpcMode: 'host',
    })
    expect(opts.Cmd).toContain('0.0.0.0')
  })
})

describe('adoptablePort', () => {
  const info = (state: string, labels: Record<string, string>) =>
    ({ State: state, Labels: labels }) as unknown as Parameters<typeof adoptablePort>[0]

  it.each([
    ['running, same plan', 'running', LABELS, 41000],
    ['running, another plan', 'running', { ...LABELS, 'ai.cortex.plan-hash': 'other' }, null],
    ['exited', 'exited', LABELS, null],
    ['no usable port label', 'running', { ...LABELS, 'ai.cortex.port': 'x' }, null],
  ])('%s', (_name, state, labels, expected) => {
    expect(adoptablePort(info(state, labels), 'h'.repeat(64))).toBe(expected)
  })
})
