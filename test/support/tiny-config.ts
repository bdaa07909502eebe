/** A config with the tiny model on the real llama-server, as `cortex.yaml` text; `context` is its `-c`. */
export const tinyModelConfig = (llamaServer: string, tinyModel: string, name = 'tiny', context = 1024) => `
engines:
  llamaServer: ${JSON.stringify(llamaServer)}
models:
  - name: ${name}
    engine: llamacpp
    runtime: process
    source: ${JSON.stringify(tinyModel)}
    args: ["-c", "${context}"]
`
