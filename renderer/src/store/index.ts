import { create } from 'zustand'
import { initialState, type State } from './slices.js'

/** The one store (STYLE.md §7): slices in slices.ts, written from outside React, read through selectors. */
export const useStore = create<State>()(() => initialState())

export const resetStore = (): void => useStore.setState(initialState(), true)

export type { State } from './slices.js'
