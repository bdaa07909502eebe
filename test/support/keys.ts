import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { KeyCreateBody, KeyCreated } from '../../gateway/contract/keys.js'

/** The admin token a `cortex serve` on this data directory generated at its first start. */
export function adminToken(dataDir: string): string {
  return readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()
}

/** Creates an API key on a running gateway's admin API, as an operator would; returns the key. Names are unique by
 *  default, since a suite may start several gateways on one data directory. */
export async function createKey(
  url: string,
  dataDir: string,
  body: KeyCreateBody = { name: `tests-${randomUUID().slice(0, 8)}` },
): Promise<string> {
  const res = await fetch(`${url}/admin/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken(dataDir)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.status !== 201) throw new Error(`POST /admin/api/keys answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as KeyCreated).key
}
