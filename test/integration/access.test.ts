import { request as httpRequest } from 'node:http'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runCortex, startCortex, waitFor, type CortexProcess } from '../support/cortex-process.js'
import { adminToken, createKey } from '../support/keys.js'

// Every way into the gateway, from the outside, over real HTTP, against a real llama-server: keys made by the CLI
// and the admin API, changed while the server runs.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-access-'))
const dataDir = path.join(dir, 'data')
const configFile = path.join(dir, 'cortex.yaml')
let cortex: CortexProcess
let token: string
/** Every gateway process this suite ran: their logs are checked for keys. */
const runs: CortexProcess[] = []

const config = (llamaServer: string) => `
engines:
  llamaServer: ${JSON.stringify(llamaServer)}
models:
  - name: tiny
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["-c", "65536", "-np", "2"]
  - name: other
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["-c", "1024"]
`

async function start(): Promise<CortexProcess> {
  const started = await startCortex(['serve', '--config', configFile, '--data-dir', dataDir, '--port', '0'])
  runs.push(started)
  return started
}

beforeAll(async () => {
  copyFileSync(inject('tinyModel'), path.join(dir, 'tiny.gguf'))
  writeFileSync(configFile, config(inject('llamaServer')))
  cortex = await start()
  token = adminToken(dataDir)
})

afterAll(async () => {
  await cortex?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** `cortex <args>` on this data directory, while the server runs. */
async function cli(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCortex([...args, '--data-dir', dataDir])
  expect(code, stderr).toBe(0)
  return stdout.trim()
}

type Body = { error?: { code: string; message: string }; usage?: { prompt_tokens: number; completion_tokens: number } }

async function chat(
  headers: Record<string, string>,
  body: object = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const res = await fetch(`${cortex.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8, ...body }),
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body }
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** A request with headers fetch would not send (a forged Host, an oversized header), on a raw socket. */
function raw(pathname: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(cortex.url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: pathname, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('who gets in', () => {
  it('refuses no key, a wrong key and a malformed Authorization with 401; an oversized one with 431', async () => {
    expect((await chat({})).body.error?.code).toBe('invalid_api_key')
    expect((await chat(bearer('sk-cortex-not-a-key-0123456789abcdef'))).status).toBe(401)
    expect((await chat({ authorization: 'Token abc' })).status).toBe(401)
    expect((await raw('/v1/models', { authorization: `Bearer ${'x'.repeat(20_000)}` })).status).toBe(431)
  })

  it('serves a CLI key as Bearer and as x-api-key, and stops it the moment the CLI revokes it', async () => {
    const key = await cli('keys', 'create', '--name', 'revoked-live')
    expect(key).toMatch(/^sk-cortex-[\w-]{43}$/)
    expect((await chat(bearer(key))).status).toBe(200)
    expect((await chat({ 'x-api-key': key })).status).toBe(200)
    await cli('keys', 'revoke', 'revoked-live')
    const after = await chat(bearer(key))
    expect(after.status).toBe(401)
    expect(after.body.error?.message).toContain('revoked')
  })

  it('refuses an expired key', async () => {
    const key = await createKey(cortex.url, dataDir, { name: 'short-lived', expires: '1s' })
    await new Promise((r) => setTimeout(r, 1100))
    const res = await chat(bearer(key))
    expect(res.status).toBe(401)
    expect(res.body.error?.message).toContain('expired')
  })

  it('keeps a key to its models and to its addresses', async () => {
    const other = await cli('keys', 'create', '--name', 'other-only', '--models', 'other')
    expect((await chat(bearer(other))).body.error?.code).toBe('model_not_allowed')
    expect((await chat(bearer(other), { model: 'other' })).status).toBe(200)
    const remote = await cli('keys', 'create', '--name', 'lan-only', '--ip', '10.0.0.0/8,fd00::/8')
    const refused = await chat(bearer(remote))
    expect(refused.status).toBe(403)
    expect(refused.body.error?.code).toBe('ip_not_allowed')
    const local = await cli('keys', 'create', '--name', 'local-only', '--ip', '127.0.0.0/8,::1')
    expect((await chat(bearer(local))).status).toBe(200)
  })

  it('refuses a forged Host and a cross-origin admin request', async () => {
    const forged = await raw('/v1/models', { host: 'attacker.example:31313', authorization: `Bearer ${token}` })
    expect(forged.status).toBe(403)
    expect(JSON.parse(forged.body).error.code).toBe('host_not_allowed')
    const res = await fetch(`${cortex.url}/admin/api/keys`, {
      headers: { authorization: `Bearer ${token}`, origin: 'http://attacker.example' },
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as Body).error?.code).toBe('origin_not_allowed')
  })
})

describe('limits', () => {
  it('admits exactly rpm requests from a concurrent burst; the rest get 429 with Retry-After', async () => {
    const key = await createKey(cortex.url, dataDir, { name: 'rpm-5', rpm: 5 })
    const answers = await Promise.all(Array.from({ length: 12 }, () => chat(bearer(key))))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5)
    const refused = answers.filter((a) => a.status === 429)
    expect(refused).toHaveLength(7)
    for (const a of refused) {
      expect(a.body.error?.code).toBe('rate_limit_exceeded')
      const retry = Number(a.headers.get('retry-after'))
      expect(retry).toBeGreaterThanOrEqual(1)
      expect(retry).toBeLessThanOrEqual(60)
      expect(a.headers.get('x-ratelimit-limit-requests')).toBe('5')
      expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    }
  })

  it('holds concurrency to its limit while requests run', async () => {
    const key = await createKey(cortex.url, dataDir, { name: 'two-at-once', concurrency: 2 })
    const controller = new AbortController()
    // Long streams (a slot holds 32k tokens) hold their slots for seconds, far longer than the burst takes to arrive.
    const long = { max_tokens: 30_000, ignore_eos: true, stream: true }
    const starts = Array.from({ length: 6 }, () =>
      fetch(`${cortex.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key) },
        body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'go' }], ...long }),
        signal: controller.signal,
      }),
    )
    const responses = await Promise.all(starts)
    const refusals = await Promise.all(responses.filter((r) => r.status === 429).map((r) => r.json() as Promise<Body>))
    controller.abort()
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429])
    for (const body of refusals) expect(body.error?.message).toContain('concurrency')
  })

  it('rebuilds daily token use from the usage table at start', async () => {
    const key = await createKey(cortex.url, dataDir, { name: 'daily', dailyTokens: 100 })
    // The prompt's bytes / 4 plus max_tokens are reserved; the real usage is charged when the answer is in.
    const first = await chat(bearer(key), { max_tokens: 4 })
    expect(first.status).toBe(200)
    const used = first.body.usage!.prompt_tokens + first.body.usage!.completion_tokens
    expect(used).toBeGreaterThan(0)
    let answers = 1
    while ((await chat(bearer(key), { max_tokens: 4 })).status === 200) answers++
    expect(answers).toBeLessThan(100)
    await cortex.stop()
    cortex = await start()
    const again = await chat(bearer(key), { max_tokens: 4 })
    expect(again.status).toBe(429)
    expect(again.body.error?.message).toContain('daily tokens')
  })
})

describe('usage and metrics', () => {
  it('records each key’s tokens as the engine reported them, readable by its organization', async () => {
    const org = await fetch(`${cortex.url}/admin/api/orgs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'acme' }),
    })
    expect(org.status).toBe(201)
    const key = await cli('keys', 'create', '--name', 'acme-app', '--org', 'acme', '--scopes', 'inference,admin:read')
    let prompt = 0
    let completion = 0
    for (const max of [3, 5, 7]) {
      const { body } = await chat(bearer(key), { max_tokens: max })
      prompt += body.usage!.prompt_tokens
      completion += body.usage!.completion_tokens
    }
    type Report = {
      groups: Array<{ key: string | null; name: string | null; requests: number; promptTokens: number; completionTokens: number }>
    }
    const report = await waitFor('the usage rows to be written', async () => {
      const res = await fetch(`${cortex.url}/admin/api/usage?groupBy=key`, { headers: bearer(key) })
      expect(res.status).toBe(200)
      const body = (await res.json()) as Report
      return body.groups[0]?.requests === 3 ? body : undefined
    })
    // The key sees its organization's usage only: its own key, none of the others made above.
    expect(report.groups).toHaveLength(1)
    expect(report.groups[0]).toMatchObject({ name: 'acme-app', promptTokens: prompt, completionTokens: completion })
    expect((await fetch(`${cortex.url}/admin/api/keys`, { headers: bearer(key) })).status).toBe(403)
  })

  it('counts refusals by reason in /metrics, and never logs a key', async () => {
    // This process started in the daily-limit test, which left one dailyTokens refusal.
    expect((await chat({})).status).toBe(401)
    const res = await fetch(`${cortex.url}/metrics`, { headers: bearer(token) })
    const text = await res.text()
    expect(text).toMatch(/^cortex_refused_requests_total\{reason="invalid_api_key"\} 1$/m)
    expect(text).toMatch(/^cortex_refused_requests_total\{reason="dailyTokens"\} 1$/m)
    expect(text).toMatch(/^cortex_queued_requests\{model="tiny"\} 0$/m)
    const listed = JSON.parse(await cli('keys', 'list', '--json')) as Array<{ name: string; state: string }>
    expect(listed.find((k) => k.name === 'revoked-live')?.state).toBe('revoked')
    expect(listed.find((k) => k.name === 'short-lived')?.state).toBe('expired')
    const logs = runs.flatMap((r) => [...r.stdout, ...r.stderr]).join('\n')
    expect(logs).toContain('"key":"acme-app"')
    expect(logs).not.toMatch(/sk-cortex-[\w-]{20,}/)
  })
})
