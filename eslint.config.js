import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

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
  {
    files: ['gateway/contract/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fastify*', 'dockerode', 'react', 'electron', 'undici'] }],
    },
  },
  {
    files: ['gateway/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['electron', 'react', '**/renderer/**'] }] },
  },
  { files: ['renderer/**'], languageOptions: { globals: { ...globals.browser } } },
)
