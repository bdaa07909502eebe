/** Ready-to-paste client configurations for the base URL, a key and a model (or placeholders where there is none). */
export interface Snippet {
  id: string
  label: string
  code: string
  note?: string
}

export function snippets(origin: string, key: string | null, model: string | null): Snippet[] {
  const k = key ?? '<your key>'
  const m = model ?? '<model>'
  const base = `${origin}/v1`
  return [
    {
      id: 'curl',
      label: 'curl',
      code: `curl ${base}/chat/completions \\
  -H "Authorization: Bearer ${k}" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "${m}", "messages": [{"role": "user", "content": "Hello"}]}'`,
    },
    {
      id: 'python',
      label: 'Python (openai)',
      code: `from openai import OpenAI

client = OpenAI(base_url="${base}", api_key="${k}")
reply = client.chat.completions.create(model="${m}", messages=[{"role": "user", "content": "Hello"}])
print(reply.choices[0].message.content)`,
    },
    {
      id: 'js',
      label: 'JavaScript (openai)',
      code: `import OpenAI from 'openai'

const client = new OpenAI({ baseURL: '${base}', apiKey: '${k}' })
const reply = await client.chat.completions.create({ model: '${m}', messages: [{ role: 'user', content: 'Hello' }] })
console.log(reply.choices[0].message.content)`,
    },
    {
      id: 'openwebui',
      label: 'Open WebUI',
      code: `OPENAI_API_BASE_URL=${base}
OPENAI_API_KEY=${k}`,
      note: 'Or in Open WebUI: Settings → Connections → OpenAI API, with this URL and key.',
    },
    {
      id: 'continue',
      label: 'Continue',
      code: `models:
  - name: ${m}
    provider: openai
    model: ${m}
    apiBase: ${base}
    apiKey: ${k}`,
      note: 'In ~/.continue/config.yaml.',
    },
    {
      id: 'claude',
      label: 'Claude Code',
      code: `ANTHROPIC_BASE_URL=${origin} ANTHROPIC_AUTH_TOKEN=${k} ANTHROPIC_MODEL=${m} claude`,
      note: 'Claude Code speaks the Anthropic Messages API: it works where the engine serves /v1/messages, as llama-server does.',
    },
  ]
}
