/** Loads what a screen shows into the store; route loaders call these, views only select the result. */
import * as api from '../api.js'
import { useStore } from './index.js'
import { dataOf, type Remote } from './remote.js'
import { type DataKey, type DataSlice, type MonitorSample, withSamples } from './slices.js'

type DataOf<K extends DataKey> = DataSlice[K] extends Remote<infer T> ? T : never

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** Loads one data slice, keeping the last answer on screen while the new one comes (or fails). */
export async function load<K extends DataKey>(key: K, fetcher: () => Promise<DataOf<K>>): Promise<void> {
  const signedIn = () => useStore.getState().session.status === 'signed-in'
  if (!signedIn()) return
  const previous = dataOf(useStore.getState()[key] as Remote<DataOf<K>>)
  useStore.setState({ [key]: { status: 'loading', data: previous } } as Partial<DataSlice>)
  try {
    const data = await fetcher()
    useStore.setState({ [key]: { status: 'ready', data } } as Partial<DataSlice>)
  } catch (err) {
    if (!signedIn()) return
    const remote = { status: 'error', error: message(err), missing: api.isMissingRoute(err), data: previous }
    useStore.setState({ [key]: remote } as Partial<DataSlice>)
  }
}

export const loadKeys = () => load('keys', api.listKeys)
export const loadSettings = () => load('settings', api.getSettings)
export const loadSystem = () => load('system', () => api.getSystem())
export const loadRecipes = () => load('recipes', async () => (await api.listRecipes()).data)
export const loadOrgs = () => load('orgs', api.listOrgs)
export const loadUsers = () => load('users', api.listUsers)
export const loadSessions = () => load('sessions', api.listSessions)
export const loadImages = () => load('images', async () => (await api.listImages()).data)
export const loadUsage = (params: api.UsageParams) => load('usage', () => api.getUsage(params))

/** The models come with the events stream's snapshot; this list covers a stream that cannot open. */
export async function loadModels(): Promise<void> {
  if (useStore.getState().session.status !== 'signed-in' || useStore.getState().modelsStatus === 'ready') return
  try {
    const { data } = await api.listModels()
    // A snapshot that arrived meanwhile is as new and carries Docker's state too.
    if (useStore.getState().modelsStatus === 'ready') return
    useStore.setState({ models: Object.fromEntries(data.map((m) => [m.id, m])), modelsStatus: 'ready', modelsError: null })
  } catch (err) {
    if (useStore.getState().modelsStatus !== 'ready') useStore.setState({ modelsStatus: 'error', modelsError: message(err) })
  }
}

/** The last hour of GPU and host readings, so a reload does not start the charts empty; live samples follow on /events. */
export async function loadMonitor(): Promise<void> {
  if (useStore.getState().session.status !== 'signed-in') return
  if (useStore.getState().samples.length === 0) useStore.setState({ monitorStatus: 'loading' })
  try {
    const [gpus, system] = await Promise.all([api.getGpus(true), api.getSystem(true)])
    const hosts = new Map((system.history ?? []).map((h) => [h.at, h.host]))
    const history: MonitorSample[] = (gpus.history ?? []).map((h) => ({ at: h.at, gpus: h.gpus, host: hosts.get(h.at) ?? null }))
    history.push({ at: gpus.at, gpus: gpus.data, host: system.host })
    useStore.setState((s) => ({
      samples: withSamples(s.samples, history),
      monitorStatus: 'ready',
      monitorError: gpus.error,
      system: { status: 'ready', data: system },
    }))
  } catch (err) {
    useStore.setState({ monitorStatus: 'error', monitorError: message(err) })
  }
}
