export const USAGE = `Usage: cortex <command> [options]

Commands:
  serve                 run the gateway and engine manager (headless)
  models list           list the models, their state, replicas and context (--json: the raw data)
  models start <name>   start a model (name or alias) and wait until it runs
  models stop <name>    stop a model
  status                whether the gateway answers, Docker, and each model's state
  schema                print the config file's JSON Schema (for editors: yaml-language-server)

Options for serve:
  --config <file>     config file (YAML)                     env CORTEX_CONFIG
  --data-dir <dir>    database, logs and admin token          env CORTEX_DATA_DIR
  --host <address>    address to listen on (127.0.0.1)       env CORTEX_HOST
  --port <port>       port to listen on (31313)               env CORTEX_PORT
  --allow-remote      allow a non-loopback --host while /v1 has no API keys

Options for models and status (they talk to a running \`cortex serve\`):
  --url <url>         the gateway, e.g. http://127.0.0.1:31313; default: where serve listens
                      by the same --config, --data-dir and environment as serve
  --config <file>, --data-dir <dir>   as for serve
  --json              models list: print the models as JSON
  The admin token comes from CORTEX_ADMIN_TOKEN, else <data-dir>/admin-token.

  -h, --help          show this help
  -v, --version       show the version
`

/** Prints what was wrong with the command line and the usage; 2 is the exit code for a usage error. */
export function usageError(io: { stderr(text: string): void }, command: string, message: string): number {
  io.stderr(`cortex ${command}: ${message}\n\n${USAGE}`)
  return 2
}
