import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const eslint = new ESLint({ cwd: root })

/** The restricted-import messages ESLint gives `source` as if it were the file at `file`. */
async function refusals(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const used = x\n`, { filePath: path.join(root, file) })
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('lint › the boundaries of ARCHITECTURE.md', () => {
  it.each([
    ['gateway/contract/x.ts', "import x from 'node:fs'"],
    ['gateway/contract/x.ts', "import x from '../config/load.js'"],
    ['gateway/router/x.ts', "import x from 'fastify'"],
    ['gateway/router/x.ts', "import x from 'node:fs/promises'"],
    ['gateway/router/x.ts', "import x from '../store/open.js'"],
    ['gateway/engines/policies/x.ts', "import x from 'undici'"],
    ['gateway/engines/backends/x.ts', "import x from 'dockerode'"],
    ['gateway/models/estimate-x.ts', "import x from 'node:fs'"],
    ['gateway/models/x.ts', "import x from '../engines/manager.js'"],
    ['gateway/engines/docker/x.ts', "import x from '../../store/open.js'"],
    ['gateway/http/x.ts', "import x from 'dockerode'"],
    ['gateway/http/x.ts', "import x from 'better-sqlite3'"],
    ['gateway/services/x.ts', "import x from 'fastify'"],
    ['gateway/services/x.ts', "import x from '../http/app.js'"],
    ['gateway/store/x.ts', "import x from 'electron'"],
    ['electron/main/x.ts', "import x from '../../gateway/http/app.js'"],
    ['renderer/src/x.ts', "import x from 'node:path'"],
    ['renderer/src/x.ts', "import x from '../../gateway/http/app.js'"],
  ])('%s may not %s', async (file, source) => {
    expect(await refusals(file, source)).toHaveLength(1)
  })

  it.each([
    ['gateway/contract/x.ts', "import x from 'typebox'"],
    ['gateway/contract/x.ts', "import x from './model.js'"],
    ['gateway/router/x.ts', "import x from '../contract/index.js'"],
    ['gateway/engines/backends/x.ts', "import x from 'node:path'"],
    ['gateway/http/x.ts', "import x from 'fastify'"],
    ['gateway/services/x.ts', "import x from '../engines/manager.js'"],
    ['electron/main/x.ts', "import x from '../../gateway/index.js'"],
    ['electron/main/x.ts', "import x from '../../gateway/contract/index.js'"],
    ['renderer/src/x.ts', "import x from '../../gateway/contract/model.js'"],
  ])('%s may %s', async (file, source) => {
    expect(await refusals(file, source)).toEqual([])
  })
})
