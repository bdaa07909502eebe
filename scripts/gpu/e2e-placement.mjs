// The checks of scripts/gpu/e2e-placement.sh, run against a `cortex serve` it started: plain Node (no dependencies),
// so the device needs only a node binary. Every answer and nvidia-smi capture goes to $RES; prints PASS/FAIL per check
// and writes $RES/summary.json. Exit code 0 only when every check passed.
// Environment: CORTEX_URL, CORTEX_ADMIN_TOKEN, RES, MODEL_A, MODEL_B (GGUF paths), CTX_A, CTX_B; PROMPT_TOKENS (2000).
import { execFileSync } from 'node:child_process'
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const env = (name) => process.env[name] ?? fail(`${name} is not set`)
const url = env('CORTEX_URL')
const token = env('CORTEX_ADMIN_TOKEN')
const res = env('RES')
const MiB = 1024 * 1024
const mib = (bytes) => (bytes === null || bytes === undefined ? null : Math.round(bytes / MiB))
const t0 = Date.now()
let step = 0

function fail(message) {
  throw new Error(message)
}

function say(message) {
  const line = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}`
  console.log(line)
  appendFileSync(join(res, 'driver-log.txt'), `${line}\n`)
}

/** One HTTP call; the answer is saved as NN-name.json. */
async function call(name, method, path, body, timeoutMs = 240_000) {
  const started = Date.now()
  let status = 0
  let json
  try {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    })
    status = r.status
    const text = await r.text()
    try {
      json = JSON.parse(text)
    } catch {
      json = { raw: text }
    }
  } catch (err) {
    json = { fetchError: String(err) }
  }
  const file = `${String(++step).padStart(2, '0')}-${name}.json`
  writeFileSync(join(res, file), JSON.stringify({ method, path, body, status, ms: Date.now() - started, answer: json }, null, 2))
  say(`${method} ${path} -> ${status} (${Date.now() - started} ms)`)
  return { status, json }
}

function smi(args) {
  try {
    return execFileSync('nvidia-smi', args, { encoding: 'utf8', timeout: 20_000 })
  } catch (err) {
    return `nvidia-smi failed: ${err}`
  }
}

/** nvidia-smi's view now, saved as NN-smi-name.txt; returns the card's used MiB and each pid's MiB. */
function capture(name) {
  const gpu = smi(['--query-gpu=index,name,memory.total,memory.used,memory.free', '--format=csv,noheader,nounits'])
  const apps = smi(['--query-compute-apps=pid,process_name,used_memory', '--format=csv,noheader,nounits'])
  writeFileSync(join(res, `${String(++step).padStart(2, '0')}-smi-${name}.txt`), `${gpu}\n${apps}`)
  const [, , total, used, free] = gpu.split('\n')[0].split(/,\s*/)
  const perPid = new Map()
  for (const line of apps.split('\n')) {
    const [pid, , mem] = line.split(/,\s*/)
    if (pid && mem && /^\d+$/.test(pid)) perPid.set(Number(pid), Number(mem))
  }
  say(`nvidia-smi ${name}: used ${used} / ${total} MiB, free ${free}; processes ${JSON.stringify([...perPid])}`)
  return { total: Number(total), used: Number(used), free: Number(free), perPid }
}

const results = []
function check(id, pass, detail) {
  results.push({ id, pass: Boolean(pass), ...detail })
  console.log(`${pass ? 'PASS' : 'FAIL'} ${id}: ${JSON.stringify(detail)}`)
  appendFileSync(join(res, 'driver-log.txt'), `${pass ? 'PASS' : 'FAIL'} ${id}: ${JSON.stringify(detail)}\n`)
}

const args = (ctx) => ['-c', String(ctx), '-np', '1', '-ngl', '99', '-fa', 'on']
const model = (name, source, ctx) => ({ name, engine: 'llamacpp', runtime: 'process', source, args: args(ctx) })
const state = (view) => view?.status?.state ?? null
const pidOf = (view) => view?.status?.replicas?.[0]?.pid ?? null
const prompt = (name) => ({
  model: name,
  // 2000 token ids, as ESTIMATE.md's runs: the CUDA pools grow during the first long prompt.
  prompt: Array.from({ length: Number(process.env.PROMPT_TOKENS ?? 2000) }, (_, i) => 300 + i),
  max_tokens: 8,
})

/** Estimate (dry-run's needBytes) against what nvidia-smi shows for the engine's process. */
function compare(id, name, dry, pid, idle, after) {
  const estimate = mib(dry.json?.gpus?.[0]?.needBytes)
  const measuredIdle = idle.perPid.get(pid) ?? null
  const measured = after.perPid.get(pid) ?? null
  const error = estimate !== null && measured !== null ? estimate - measured : null
  // ESTIMATE.md: all layers on the GPU came out +3 to +99 MiB over the process's memory after a prompt.
  const pass = error !== null && error >= -32 && error <= Math.max(256, measured * 0.03)
  check(id, pass, {
    model: name,
    estimateMiB: estimate,
    breakdownMiB: breakdown(dry.json?.estimate),
    measuredIdleMiB: measuredIdle,
    measuredAfterPromptMiB: measured,
    errorMiB: error,
    errorPercent: error !== null && measured ? +((100 * error) / measured).toFixed(2) : null,
  })
}

function breakdown(estimate) {
  const e = estimate?.llamacpp ?? estimate
  if (!e || typeof e !== 'object') return null
  const out = {}
  for (const k of ['weightsBytes', 'kvCacheBytes', 'computeBytes', 'overheadBytes', 'totalBytes'])
    if (typeof e[k] === 'number') out[k.replace('Bytes', '')] = mib(e[k])
  return out
}

async function main() {
  const ctxA = Number(env('CTX_A'))
  const ctxB = Number(env('CTX_B'))
  capture('before')
  const a = await call('create-a', 'POST', '/admin/api/models', model('big-a', env('MODEL_A'), ctxA))
  const b = await call('create-b', 'POST', '/admin/api/models', model('big-b', env('MODEL_B'), ctxB))
  const idA = a.json?.id
  const idB = b.json?.id
  if (!idA || !idB) fail('could not create the models')

  // (2) the dry-run before the start, then what the started engine holds.
  const dryA = await call('dry-run-a', 'POST', `/admin/api/models/${idA}/dry-run`)
  const startA = await call('start-a', 'POST', `/admin/api/models/${idA}/start?wait=true`)
  const pidA = pidOf(startA.json)
  const idleA = capture('a-idle')
  // (1) the GPU as the admin API shows it, with the engine's process attributed to its model.
  const gpus = await call('gpus-a-running', 'GET', '/admin/api/gpus')
  const gpu = gpus.json?.data?.[0]
  const proc = gpu?.processes?.find((p) => p.pid === pidA)
  check('1-gpus-attribution', gpus.status === 200 && gpu?.memoryTotalBytes > 0 && proc?.model?.name === 'big-a', {
    gpu: gpu?.name ?? null,
    totalMiB: mib(gpu?.memoryTotalBytes),
    usedMiB: mib(gpu?.memoryUsedBytes),
    freeMiB: mib(gpu?.memoryFreeBytes),
    enginePid: pidA,
    process: proc ? { pid: proc.pid, name: proc.processName, usedMiB: mib(proc.usedBytes), model: proc.model } : null,
    error: gpus.json?.error ?? null,
  })
  await call('prompt-a', 'POST', '/v1/completions', prompt('big-a'))
  const afterA = capture('a-after-prompt')
  compare('2a-estimate-vs-measured', 'big-a', dryA, pidA, idleA, afterA)

  // (3) B does not fit beside A: the idle, unpinned A is stopped to make room.
  const dryB = await call('dry-run-b-a-idle', 'POST', `/admin/api/models/${idB}/dry-run`)
  const startB = await call('start-b-evicts-a', 'POST', `/admin/api/models/${idB}/start?wait=true`)
  const pidB = pidOf(startB.json)
  const listed = await call('models-after-eviction', 'GET', '/admin/api/models')
  const viewA = (listed.json?.data ?? listed.json ?? []).find?.((m) => m.id === idA)
  const idleB = capture('b-idle')
  check('3a-evicts-idle', startB.status === 200 && state(startB.json) === 'running' && state(viewA) === 'stopped', {
    dryRunFits: dryB.json?.fits ?? null,
    dryRunWouldEvict: dryB.json?.wouldEvict ?? null,
    dryRunNeedMiB: mib(dryB.json?.gpus?.[0]?.needBytes),
    dryRunFreeMiB: mib(dryB.json?.gpus?.[0]?.freeBytes),
    startStatus: startB.status,
    bState: state(startB.json),
    aStateAfter: state(viewA),
    aPidStillOnGpu: idleB.perPid.has(pidA),
  })
  await call('prompt-b', 'POST', '/v1/completions', prompt('big-b'))
  const afterB = capture('b-after-prompt')
  compare('2b-estimate-vs-measured', 'big-b', dryB, pidB, idleB, afterB)

  // (3) with A pinned, B cannot start: 503 model_start_failed, insufficient_vram, with the numbers.
  await call('stop-b', 'POST', `/admin/api/models/${idB}/stop`)
  const restartA = await call('start-a-again', 'POST', `/admin/api/models/${idA}/start?wait=true`)
  const pin = await call('pin-a', 'POST', `/admin/api/models/${idA}/pin`)
  capture('a-pinned')
  const dryPinned = await call('dry-run-b-a-pinned', 'POST', `/admin/api/models/${idB}/dry-run`)
  const refused = await call('start-b-refused', 'POST', `/admin/api/models/${idB}/start?wait=true`)
  const viaV1 = await call('v1-b-refused', 'POST', '/v1/chat/completions', {
    model: 'big-b',
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 4,
  })
  const after = await call('models-after-refusal', 'GET', '/admin/api/models')
  const aAfter = (after.json?.data ?? after.json ?? []).find?.((m) => m.id === idA)
  const err = refused.json?.error
  check(
    '3b-pinned-refuses',
    state(restartA.json) === 'running' &&
      pin.json?.pinned === true &&
      refused.status === 503 &&
      err?.code === 'model_start_failed' &&
      err?.diagnosis?.cause === 'insufficient_vram' &&
      state(aAfter) === 'running',
    {
      dryRunFits: dryPinned.json?.fits ?? null,
      dryRunWouldEvict: dryPinned.json?.wouldEvict ?? null,
      status: refused.status,
      code: err?.code ?? null,
      cause: err?.diagnosis?.cause ?? null,
      message: err?.message ?? null,
      v1Status: viaV1.status,
      v1Code: viaV1.json?.error?.code ?? null,
      v1Cause: viaV1.json?.error?.diagnosis?.cause ?? null,
      aStateAfter: state(aAfter),
    },
  )
  await call('gpus-end', 'GET', '/admin/api/gpus')
  writeFileSync(join(res, 'pids.txt'), `${[pidA, pidB, pidOf(restartA.json)].filter(Boolean).join('\n')}\n`)
}

try {
  await main()
} catch (err) {
  check('driver', false, { error: String(err?.stack ?? err) })
}
writeFileSync(join(res, 'summary.json'), JSON.stringify(results, null, 2))
const failed = results.filter((r) => !r.pass).length
say(`${results.length - failed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
