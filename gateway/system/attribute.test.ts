import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { ModelStatus, Runtime } from '../contract/index.js'
import { containerIdOf, createAttribution, parentPid } from './attribute.js'
import { parseAppsQuery } from './nvidia-smi.js'
import { modelDefinition, modelStatusOf } from '../contract/model.test-support.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/nvidia-smi')
const root = mkdtempSync(path.join(tmpdir(), 'cortex-proc-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const CONTAINER = 'c'.repeat(64)
const OTHER_CONTAINER = 'e'.repeat(64)

/** A made-up /proc entry: the stat line (comm with a space and parentheses, as real ones can have) and the cgroup. */
function proc(pid: number, ppid: number, cgroup = '0::/user.slice/user-1000.slice/session-2.scope\n'): void {
  mkdirSync(path.join(root, String(pid)), { recursive: true })
  writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (VLLM::Worker (TP0)) S ${ppid} ${pid} ${pid} 0 -1 4194560\n`)
  writeFileSync(path.join(root, String(pid), 'cgroup'), cgroup)
}

function status(id: string, runtime: Runtime, pids: number[]): ModelStatus {
  const def = modelDefinition({ id, name: `name-${id}`, engine: runtime === 'docker' ? 'vllm' : 'llamacpp', runtime })
  return modelStatusOf(def, {
    state: 'running',
    replicas: pids.map((pid, index) => ({ index, state: 'running', pid, inFlight: 0 })),
  })
}

const gpuProcess = (pid: number) => ({ pid, processName: 'x', usedMemoryBytes: 1, gpuUuid: 'GPU-a' })

describe('createAttribution', () => {
  // llama-server (4756, from the H100 capture) is a replica itself; vLLM's worker 7003 is a grandchild of replica 7001;
  // 8002 runs in one of this instance's containers, 8003 in someone else's; 9001 is anyone's process; 9999 has ended.
  proc(4756, 1200)
  proc(7003, 7002)
  proc(7002, 7001)
  proc(7001, 1200)
  proc(8002, 8001, `0::/system.slice/docker-${CONTAINER}.scope\n`)
  proc(8001, 1)
  proc(8003, 1, `0::/docker/${OTHER_CONTAINER}\n`)
  proc(9001, 1200)
  proc(1200, 1)
  const asked: string[] = []
  const attribute = createAttribution({
    statuses: () => [status('m-llama', 'process', [4756]), status('m-vllm', 'process', [7001]), status('m-docker', 'docker', [])],
    modelOfContainer: async (id) => {
      asked.push(id)
      return id === CONTAINER ? 'm-docker' : null
    },
    procRoot: root,
  })

  it('gives the model of a process engine’s replica pid, as nvidia-smi lists llama-server', async () => {
    const apps = parseAppsQuery(readFileSync(path.join(fixtures, 'h100-cortex-query/apps-llama-server.csv'), 'utf8'))
    expect(await attribute(apps)).toEqual(new Map([[4756, { id: 'm-llama', name: 'name-m-llama' }]]))
  })

  it('gives the model of a descendant of a replica (vLLM’s workers hold the GPU memory, not `vllm serve`)', async () => {
    expect(await attribute([gpuProcess(7003)])).toEqual(new Map([[7003, { id: 'm-vllm', name: 'name-m-vllm' }]]))
  })

  it('gives the model of a Docker engine through the container in the process’s cgroup', async () => {
    asked.length = 0
    expect(await attribute([gpuProcess(8002), gpuProcess(8003)])).toEqual(
      new Map([[8002, { id: 'm-docker', name: 'name-m-docker' }]]),
    )
    expect(asked.sort()).toEqual([CONTAINER, OTHER_CONTAINER])
  })

  it('leaves out anything else, and processes that ended since nvidia-smi listed them', async () => {
    asked.length = 0
    expect(await attribute([gpuProcess(9001), gpuProcess(9999)])).toEqual(new Map())
    expect(asked).toEqual([])
  })

  it('looks no more than four generations up', async () => {
    for (let pid = 5001; pid <= 5006; pid++) proc(pid, pid === 5006 ? 1 : pid + 1)
    const deep = createAttribution({ statuses: () => [status('m', 'process', [5006])], procRoot: root })
    expect((await deep([gpuProcess(5002)])).get(5002)?.id).toBe('m')
    expect((await deep([gpuProcess(5001)])).has(5001)).toBe(false)
  })

  it.skipIf(process.platform !== 'linux')('reads the real /proc: this test process descends from its parent', async () => {
    const real = createAttribution({ statuses: () => [status('m-parent', 'process', [process.ppid])] })
    expect((await real([gpuProcess(process.pid)])).get(process.pid)).toEqual({ id: 'm-parent', name: 'name-m-parent' })
  })
})

describe('parentPid', () => {
  it('reads the fourth field after the command name, whatever the name holds', () => {
    expect(parentPid('4756 (llama-server) S 1200 4756 4756 0 -1')).toBe(1200)
    expect(parentPid('7003 (a) b) (c) R 7001 7003')).toBe(7001)
    expect(parentPid('1 (systemd) S 0 1 1')).toBe(null)
  })
})

describe('containerIdOf', () => {
  it.each([
    ['cgroup v2, systemd driver', `0::/system.slice/docker-${CONTAINER}.scope\n`, CONTAINER],
    ['cgroup v2, cgroupfs driver', `0::/docker/${CONTAINER}\n`, CONTAINER],
    ['cgroup v1', `12:memory:/docker/${CONTAINER}\n11:cpu,cpuacct:/docker/${CONTAINER}\n`, CONTAINER],
    ['Docker in Docker: the inner one', `0::/docker/${OTHER_CONTAINER}/docker/${CONTAINER}\n`, CONTAINER],
    ['no container', '0::/user.slice/user-1000.slice/session-2.scope\n', null],
  ])('%s', (_, cgroup, id) => {
    expect(containerIdOf(cgroup)).toBe(id)
  })
})
