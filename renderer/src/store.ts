import { create } from 'zustand'
import type { EngineState } from '../../gateway/contract/model.js'

export interface ModelRow {
  id: string
  state: EngineState
  contextLength: number | null
}

interface State {
  models: Record<string, ModelRow>
  error: string | null
}

export const useStore = create<State>()(() => ({ models: {}, error: null }))

interface ModelsResponse {
  data: Array<{ id: string; state: EngineState; context_length: number | null; alias_of?: string }>
}

/** Loads the model list from the gateway, like any other client (STYLE.md §7: written from outside React). */
export async function refreshModels(fetchImpl: typeof fetch = fetch): Promise<void> {
  try {
    const res = await fetchImpl('/v1/models')
    if (!res.ok) throw new Error(`GET /v1/models answered ${res.status}`)
    const body = (await res.json()) as ModelsResponse
    const models: Record<string, ModelRow> = {}
    for (const m of body.data) if (!m.alias_of) models[m.id] = { id: m.id, state: m.state, contextLength: m.context_length }
    useStore.setState({ models, error: null })
  } catch (err) {
    useStore.setState({ error: err instanceof Error ? err.message : String(err) })
  }
}
