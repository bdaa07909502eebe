export const USAGE = `Usage: cortex <command> [options]

Commands:
  serve                 run the gateway and engine manager (headless)
  models list           list the models, their state, replicas and context (--json: the raw data)
  models start <name>   start a model (name or alias) and wait until it runs
  models stop <name>    stop a model
  status                whether the gateway answers, Docker, and each model's state
  keys create           create an API key (options below); prints the key, shown this once
  keys list             list the API keys: prefix, organization, user, models, scopes, limits, state
  keys revoke <id|name> revoke an API key; the gateway refuses it from its next request
  orgs create <name>    create an organization (for keys and users)
  orgs list             list the organizations
  schema                print the config file's JSON Schema (for editors: yaml-language-server)

Options for serve:
  --config <file>     config file (YAML)                     env CORTEX_CONFIG
  --data-dir <dir>    database, logs and admin token          env CORTEX_DATA_DIR
  --host <address>    address to listen on (127.0.0.1)       env CORTEX_HOST
  --port <port>       port to listen on (31313)               env CORTEX_PORT
  --allow-remote      allow a non-loopback --host while auth.required is false

Options for models and status (they talk to a running \`cortex serve\`):
  --url <url>         the gateway, e.g. http://127.0.0.1:31313; default: where serve listens
                      by the same --config, --data-dir and environment as serve
  --config <file>, --data-dir <dir>   as for serve
  --json              models list: print the models as JSON
  The admin token comes from CORTEX_ADMIN_TOKEN, else <data-dir>/admin-token.

Options for keys and orgs (they open the data directory, also while \`cortex serve\` runs):
  --config <file>, --data-dir <dir>   as for serve
  --json              create and list: print JSON (keys create: the key and its view)

Options for keys create:
  --name <name>             required; unique
  --models <a,b>            models (names; their aliases too) the key may use; default: all
  --scopes <a,b>            inference, embeddings, admin:read; default: inference,embeddings
  --rpm <n>, --tpm <n>      requests, tokens per minute
  --concurrency <n>         requests in flight at once
  --daily-tokens <n>        tokens per UTC day
  --expires <duration>      e.g. 30d, 12h; default: never
  --ip <cidr,…>             client addresses allowed, e.g. 10.0.0.0/8,192.168.1.20; default: any
  --tags <a,b>              labels routes match on (clients.tags), e.g. batch,n8n
  --no-cache                never answer this key from a completion cache, nor keep its answers
  --org <name>              the key's organization (\`cortex orgs create\` first)
  --user <name>             the key's user (POST /admin/api/users first); the key takes the user's organization
  --key <value>             use this key (20 to 256 printable characters) instead of a generated one

  -h, --help          show this help
  -v, --version       show the version
`

/** Prints what was wrong with the command line and the usage; 2 is the exit code for a usage error. */
export function usageError(io: { stderr(text: string): void }, command: string, message: string): number {
  io.stderr(`cortex ${command}: ${message}\n\n${USAGE}`)
  return 2
}
