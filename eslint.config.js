import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** Everything under gateway/: the headless core never reaches for the desktop or the console. */
const CORE = ['electron', 'react', 'react-dom', '**/renderer/**']
/** Modules that do I/O: pure folders import none of them (node:path and node:crypto compute, so they may). */
const NODE_IO = ['fs', 'fs/*', 'net', 'http', 'https', 'http2', 'tls', 'dns', 'dgram', 'child_process', 'worker_threads']
const IO = [
  ...NODE_IO.map((name) => `node:${name}`),
  ...NODE_IO,
  'fastify',
  'fastify/*',
  '@fastify/*',
  'dockerode',
  'better-sqlite3',
  'undici',
  'ioredis',
  'systeminformation',
]
/** Tests may stand on real parts (SQLite in an HTTP suite); only CORE binds them. */
const TESTS = ['**/*.test.ts', '**/*.test.tsx', '**/*.test-support.ts']

/**
 * The boundaries table of ARCHITECTURE.md, one block per folder. ESLint keeps only the last setting of a rule for a
 * file, so each block repeats what the blocks before it forbid (CORE) instead of relying on them.
 */
const boundary = (files, patterns, message) => ({
  files,
  ignores: TESTS,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] },
})

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'renderer/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  boundary(['gateway/**'], CORE, 'the core never imports the desktop shell or the console (ARCHITECTURE.md "Boundaries")'),
  boundary(
    ['gateway/contract/**'],
    [...CORE, ...IO, 'node:*', 'pino', 'yaml', 'prom-client', '../*'],
    'gateway/contract is the leaf everyone imports: typebox and its own files only',
  ),
  boundary(
    ['gateway/models/**'],
    [...CORE, 'fastify', 'dockerode', 'better-sqlite3', '**/engines/**', '**/services/**', '**/store/**', '**/http/**'],
    'gateway/models is the leaf of model facts: contract, config and node:fs only',
  ),
  boundary(
    ['gateway/router/**', 'gateway/engines/backends/**', 'gateway/engines/policies/**', 'gateway/models/estimate*'],
    [...CORE, ...IO, '**/store/**', '**/http/**', '**/engines/docker/**', '**/services/**'],
    'routing, plans, policies and estimates are pure: contract and siblings, no I/O',
  ),
  boundary(
    ['gateway/engines/docker/**'],
    [...CORE, 'fastify', '**/router/**', '**/store/**', '**/http/**', '**/services/**'],
    'the Docker driver knows dockerode and Node, not the HTTP app, routing or the store',
  ),
  boundary(
    ['gateway/services/**'],
    [...CORE, 'fastify', 'fastify/*', '@fastify/*', 'dockerode', '**/http/**'],
    'services sit below the HTTP app and above the engines: no fastify, no dockerode',
  ),
  boundary(
    ['gateway/http/**'],
    [...CORE, 'dockerode', 'better-sqlite3'],
    "the HTTP app reaches Docker and SQLite only through the core's services",
  ),
  boundary(
    ['electron/main/**'],
    ['react', 'react-dom', '**/renderer/**', '**/gateway/*', '!**/gateway/index.js', '!**/gateway/contract'],
    'electron/main imports the core only through gateway/index.ts (and contract types)',
  ),
  { files: ['renderer/**'], languageOptions: { globals: { ...globals.browser } } },
  boundary(
    ['renderer/**'],
    ['node:*', 'electron', '**/gateway/*', '!**/gateway/contract'],
    'the console talks to the gateway over HTTP: contract types only, no Node, no gateway internals',
  ),
)
