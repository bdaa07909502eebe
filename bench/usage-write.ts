// What a durable usage row costs the request that records it: `npx tsx bench/usage-write.ts [rows] [--json]`.
// Prints per-row figures (µs) for the store's own writer as the request path calls it (recordGrouped: the rows of
// one event-loop turn in one commit, WAL, synchronous=NORMAL, as gateway/store/open.ts opens the database) with one
// row per turn (a quiet gateway) and 8 (the bench's CPU loop runs 8 requests at once), beside the alternatives it
// was chosen over. Figures only, no verdict. `--json` (what bench/run.ts reads) times the store's writer only and
// prints its summaries as one JSON line.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { UsageRecord } from '../gateway/contract/usage.js'
import { openStore } from '../gateway/store/open.js'
import { summarize } from './stats.js'

const args = process.argv.slice(2)
const json = args.includes('--json')
const rows = Number(args.find((a) => a !== '--json') ?? 20_000)
if (!Number.isInteger(rows) || rows < 1) throw new Error(`usage-write.ts expects a whole number of rows (got ${args.join(' ')})`)
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-usage-bench-'))

const row = (i: number): UsageRecord => ({
  ts: Date.now(),
  requestId: `req-${i.toString(36).padStart(12, '0')}`,
  keyId: 'key_0123456789ab',
  orgId: 'org_0123456789ab',
  model: 'qwen2.5-7b',
  route: null,
  replica: i % 2,
  endpoint: '/v1/chat/completions',
  status: 200,
  stream: i % 2 === 0,
  promptTokens: 120,
  completionTokens: 240,
  ttftMs: 35.5,
  totalMs: 1800.25,
  queueMs: 0,
  overheadMs: 0.2,
  bytesIn: 900,
  bytesOut: 4800,
})

/** Microseconds per row of each turn: `perTurn` rows recorded together, timed until their commit resolves. */
async function timeTurns(perTurn: number, record: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < rows; i += perTurn) {
    const t0 = process.hrtime.bigint()
    const committed: Promise<void>[] = []
    for (let j = 0; j < perTurn; j++) committed.push(record(i + j))
    await Promise.all(committed)
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / perTurn)
  }
  return samples
}

/** Microseconds per row of each call to `step(i)`, which writes `perCall` rows. */
function time(perCall: number, step: (i: number) => void): number[] {
  const samples: number[] = []
  for (let i = 0; i < rows; i += perCall) {
    const t0 = process.hrtime.bigint()
    step(i)
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / perCall)
  }
  return samples
}

function print(name: string, samples: number[]): void {
  const s = summarize(samples)
  const f = (n: number) => n.toFixed(1).padStart(8)
  console.log(`${name.padEnd(52)}${f(s.mean)}${f(s.median)}${f(s.p99)}${f(Math.max(...samples))}`)
}

/** The store's own writer as the request path calls it, `perTurn` rows per event-loop turn, after a warm-up (the
 *  first statements pay for page allocation and the prepared plan); each case on a database of its own. */
async function storeGrouped(perTurn: number): Promise<number[]> {
  const store = openStore(path.join(dir, `data-${perTurn}`))
  for (let i = 0; i < 1000; i++) store.usage.record(row(-i))
  const samples = await timeTurns(perTurn, (i) => store.usage.recordGrouped(row(i)))
  store.close()
  return samples
}

/** Every case, as a table: the store's writer, then what it was chosen over (the same table, a second connection). */
async function allCases(): Promise<void> {
  console.log(`${rows} usage rows per case, µs per row`)
  console.log(`${'case'.padEnd(52)}${'mean'.padStart(8)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}`)
  print('store.usage.recordGrouped, 1 row per turn (NORMAL)', await storeGrouped(1))
  print('store.usage.recordGrouped, 8 rows per turn (NORMAL)', await storeGrouped(8))
  const db = new Database(path.join(dir, 'data-1', 'cortex.db'))
  db.pragma('synchronous = NORMAL')
  const insert = db.prepare(`
    INSERT INTO usage (ts, request_id, key_id, org_id, model, replica, endpoint, status, stream, prompt_tokens, completion_tokens, ttft_ms, total_ms, bytes_in, bytes_out)
    VALUES (@ts, @requestId, @keyId, @orgId, @model, @replica, @endpoint, @status, @stream, @promptTokens, @completionTokens, @ttftMs, @totalMs, @bytesIn, @bytesOut)`)
  const write = (r: UsageRecord) => insert.run({ ...r, stream: r.stream ? 1 : 0 })
  for (const batch of [10, 100]) {
    const group = db.transaction((first: number) => {
      for (let j = 0; j < batch; j++) write(row(first + j))
    })
    print(`group commit of ${batch} rows per turn (NORMAL)`, time(batch, group))
  }
  db.pragma('synchronous = FULL')
  print(
    'one commit per row, synchronous=FULL (fsync per row)',
    time(1, (i) => write(row(i))),
  )
  db.close()
}

try {
  if (json) {
    const [one, eight] = [summarize(await storeGrouped(1)), summarize(await storeGrouped(8))]
    console.log(JSON.stringify({ rows, usPerRow: one, usPerRowIn8: eight }))
  } else await allCases()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
