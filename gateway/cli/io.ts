/** Where a command writes and what it reads from its environment; tests pass their own. */
export interface CliIO {
  stdout(text: string): void
  stderr(text: string): void
  env: NodeJS.ProcessEnv
}

export function processIO(): CliIO {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
  }
}

/** A failure a person can act on: its message is printed as is and the command exits 1. */
export class CliError extends Error {
  override readonly name = 'CliError'
}
