import type { EngineState } from '../../contract/index.js'

/**
 * The engine lifecycle (ARCHITECTURE.md): `stopped → starting → loading → running`, `running → stopping → stopped`,
 * any → `failed`. Also: `starting → running` (remote endpoints and fast engines have no observable loading phase),
 * `starting|loading → stopping` (a stop cancels a start), `failed → starting` (restart) and `failed → stopped`
 * (an explicit stop clears a failure).
 */
const ALLOWED: Record<EngineState, readonly EngineState[]> = {
  stopped: ['starting', 'failed'],
  starting: ['loading', 'running', 'stopping', 'failed'],
  loading: ['running', 'stopping', 'failed'],
  running: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  failed: ['starting', 'stopped'],
}

export function canTransition(from: EngineState, to: EngineState): boolean {
  return ALLOWED[from].includes(to)
}

/** The state a model shows for its replicas: the most useful one wins (running > loading > starting > stopping > failed > stopped). */
export function modelState(replicas: readonly EngineState[]): EngineState {
  for (const s of ['running', 'loading', 'starting', 'stopping', 'failed'] as const) {
    if (replicas.includes(s)) return s
  }
  return 'stopped'
}
