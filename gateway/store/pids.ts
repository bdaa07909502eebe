import type Database from 'better-sqlite3'
import type { PidRepo } from './types.js'

interface PidRow {
  pid: number
  model_id: string
  replica: number
  command: string
  started_at: number
}

/** The `engine_processes` table: native engines Cortex started, reaped at the next start if Cortex was killed. */
export function createPidRepo(db: Database.Database): PidRepo {
  // REPLACE: a pid the OS reused belongs to the newest process.
  const insert = db.prepare<[Omit<PidRow, 'command'> & { command: string }]>(
    'INSERT OR REPLACE INTO engine_processes (pid, model_id, replica, command, started_at) VALUES (@pid, @model_id, @replica, @command, @started_at)',
  )
  const remove = db.prepare<[number]>('DELETE FROM engine_processes WHERE pid = ?')
  const selectAll = db.prepare<[], PidRow>(
    'SELECT pid, model_id, replica, command, started_at FROM engine_processes ORDER BY started_at, pid',
  )
  return {
    add: (rec) =>
      void insert.run({
        pid: rec.pid,
        model_id: rec.modelId,
        replica: rec.replica,
        command: JSON.stringify(rec.command),
        started_at: rec.startedAt,
      }),
    remove: (pid) => void remove.run(pid),
    list: () =>
      selectAll.all().map((row) => ({
        pid: row.pid,
        modelId: row.model_id,
        replica: row.replica,
        command: JSON.parse(row.command) as string[],
        startedAt: row.started_at,
      })),
  }
}
