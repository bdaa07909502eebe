import type { TestProject } from 'vitest/node'
import { tinyModel } from './global-setup.js'
import { findLlamaServer } from './substrate.js'

/** The browser suites' substrate: the real llama-server and the tiny model (no Docker or Redis). */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('llamaServer', await findLlamaServer())
  project.provide('tinyModel', await tinyModel())
}
