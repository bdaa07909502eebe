/** Test doubles for the metrics suites: an engine manager whose statuses and events a test sets, a system monitor. */
import type { EngineState, GpuSample, ModelStatus, ReplicaStatus, SystemSample } from '../contract/index.js'
import type { EngineEvent } from '../engines/manager.js'
import type { EngineSource, GpuSource } from './collectors.js'
import { modelDefinition, modelStatusOf } from '../contract/model.test-support.js'

export class FakeEngines implements EngineSource {
  models: ModelStatus[] = []
  readonly listeners = new Set<(e: EngineEvent) => void>()

  statuses(): ModelStatus[] {
    return this.models
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** One replica's transition, as the manager reports it. */
  emit(id: string, model: string, replica: number, state: EngineState): void {
    for (const fn of this.listeners)
      fn({ id, model, state, reason: 'requested', replica: { index: replica, state, inFlight: 0 }, contextLength: null })
  }
}

export function modelStatus(name: string, state: EngineState, replicas: Array<Partial<ReplicaStatus>> = []): ModelStatus {
  return modelStatusOf(modelDefinition({ id: `id-${name}`, name }), {
    state,
    replicas: replicas.map((r, index) => ({ index, state, inFlight: 0, ...r })),
  })
}

/** A monitor whose every sample holds `gpus`. */
export class FakeSystem implements GpuSource {
  constructor(public gpus: GpuSample[] = []) {}

  async latest(): Promise<SystemSample> {
    return { at: Date.now(), gpus: this.gpus, host: null, error: this.gpus.length === 0 ? 'nvidia-smi was not found' : null }
  }
}
