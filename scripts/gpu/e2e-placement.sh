#!/usr/bin/env bash
# End to end on a real NVIDIA GPU: `cortex serve` with two CUDA llama-server models, driven through the admin API.
# It proves (scripts/gpu/e2e-placement.mjs prints PASS/FAIL for each):
#   1. GET /admin/api/gpus shows the GPU with its memory, and the running model's llama-server process attributed to it;
#   2. POST /admin/api/models/{id}/dry-run's GPU memory estimate is close to what nvidia-smi shows once the model runs
#      (after a 2000-token prompt, as in gateway/models/ESTIMATE.md);
#   3. placement: model A (~51 GiB on the card, most of it KV cache from a large -c) runs idle; starting B (~39 GiB)
#      makes Cortex stop A (least recently used idle) and start B. With A pinned instead, B's start fails with
#      503 model_start_failed, diagnosis cause insufficient_vram, and a message giving needed/free/held-by numbers.
# The models are Phi-3-mini-shaped GGUFs with all-zero weights (scripts/gpu/make-models.ts's p3mini-q4km: an MHA
# model, so -c inflates the KV cache cheaply: 0.375 MiB per token). A: -c 131072 (≈ 52264 MiB estimated),
# B: -c 98304 (≈ 39944 MiB): A alone fits an 80 GB card, B alone fits, both do not.
#
# Runs from the repository root on the GPU machine after `bash scripts/gpu/e2e-prepare.sh` made .device/e2e here:
# node.xz (a node 20 binary), llama-server.xz (the CUDA llama-server measure-vram.sh built; without it, or if it does
# not run, one is built from .device/llama-src.tar.xz, ~5 min, which must then be carried too), app.tar.xz (Cortex
# bundled with esbuild, better-sqlite3, the GGUF header). It ran on an H100 through the device tool, carrying
# .device/e2e (62.8 MiB with the working tree), as `DRIVER_TIMEOUT_S=300 bash scripts/gpu/e2e-placement.sh`: 11 s,
# 5 of 5 checks passed (gateway/models/ESTIMATE.md, "End to end on an H100"; test/support/fixtures/gpu-e2e/).
# Writes $OUT/results.tgz (every answer, nvidia-smi captures, Cortex's log) and $OUT/summary.json.
# Without a GPU, for rehearsal: LLAMA_SERVER=<a CPU llama-server>, PATH with a stand-in nvidia-smi, smaller CTX_A/CTX_B.
set -uo pipefail
out="${OUT:?OUT must name the folder for results}"
repo="$PWD"
e2e="$repo/.device/e2e"
work="${WORK:-/tmp/cortex-e2e}"
res="$work/res"
port="${PORT:-31999}"
export CTX_A="${CTX_A:-131072}" CTX_B="${CTX_B:-98304}"
rm -rf "$work" && mkdir -p "$work/bin" "$work/models" "$work/data" "$res"
say() { printf '[%4ds] %s\n' "$SECONDS" "$*" | tee -a "$res/script.log"; }
pack() {
  [ -f "$res/summary.json" ] && cp "$res/summary.json" "$out/summary.json"
  tar -czf "$out/results.tgz.tmp" -C "$res" . && mv "$out/results.tgz.tmp" "$out/results.tgz"
}
cortex_pid=''
cleanup() {
  if [ -n "$cortex_pid" ] && kill -0 "$cortex_pid" 2>/dev/null; then
    kill -TERM "$cortex_pid"
    for _ in $(seq 150); do kill -0 "$cortex_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$cortex_pid" 2>/dev/null
  fi
  # Engines Cortex did not stop (it should have): the pids the driver saw.
  if [ -f "$res/pids.txt" ]; then
    while read -r p; do
      if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
        say "engine $p outlived Cortex: killing it"
        kill -KILL "$p"
      fi
    done <"$res/pids.txt"
  fi
  nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv >"$res/smi-end.csv" 2>&1
  pack
}
trap cleanup EXIT

nvidia-smi >"$res/nvidia-smi.txt" 2>&1
nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,driver_version --format=csv >"$res/smi-idle.csv" 2>&1

xz -dc "$e2e/node.xz" >"$work/bin/node" && chmod +x "$work/bin/node"
export PATH="$work/bin:$PATH"
say "node $(node --version)"
# The bundle finds recipes/ and package.json two folders up, as it would at .device/e2e/cortex.mjs.
app="$work/app/e2e"
mkdir -p "$app" && tar -xJf "$e2e/app.tar.xz" -C "$app"
ln -s "$repo/recipes" "$work/recipes" && ln -s "$repo/package.json" "$work/package.json"

bin="$work/bin/llama-server"
if [ -n "${LLAMA_SERVER:-}" ]; then
  cp "$LLAMA_SERVER" "$bin"
elif [ -f "$e2e/llama-server.xz" ]; then
  xz -dc "$e2e/llama-server.xz" >"$bin" && chmod +x "$bin"
fi
if ! "$bin" --version >"$res/llama-version.txt" 2>&1; then
  say "no working llama-server ($(tail -n 1 "$res/llama-version.txt")): building the CUDA one"
  mkdir -p "$work/src"
  tar -xJf "$repo/.device/llama-src.tar.xz" -C "$work/src"
  cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 '-DGGML_CUDA_FA_QUANTS=f16-f16;q8_0-q8_0;q4_0-q4_0' \
    >"$res/configure.log" 2>&1 || { tail -n 40 "$res/configure.log"; exit 1; }
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$res/build.log" 2>&1 || { tail -n 60 "$res/build.log"; exit 1; }
  cp "$work/build/bin/llama-server" "$bin"
  "$bin" --version >"$res/llama-version.txt" 2>&1
fi
say "llama-server: $(grep -m1 -i version "$res/llama-version.txt")"

# Two files of one shape: all-zero tensor data after the header (sparse, so free on disk).
size=$(awk '$1 == "p3mini-q4km" { print $2 }' "$app/models.txt")
for m in a b; do
  cp "$app/p3mini-q4km.head" "$work/models/$m.gguf" && truncate -s "$size" "$work/models/$m.gguf"
done

cat >"$work/cortex.yaml" <<YAML
server:
  host: 127.0.0.1
  port: $port
logging:
  level: info
engines:
  llamaServer: $bin
YAML

export CORTEX_ADMIN_TOKEN=e2e-admin-token
node "$app/cortex.mjs" serve --config "$work/cortex.yaml" --data-dir "$work/data" >"$res/cortex-log.txt" 2>&1 </dev/null &
cortex_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$cortex_pid" 2>/dev/null || break
  sleep 0.2
done
if ! curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
  say "FAIL cortex did not start"
  tail -n 30 "$res/cortex-log.txt" | cut -c1-300
  exit 1
fi
say "cortex is up (pid $cortex_pid)"

CORTEX_URL="http://127.0.0.1:$port" RES="$res" MODEL_A="$work/models/a.gguf" MODEL_B="$work/models/b.gguf" \
  timeout "${DRIVER_TIMEOUT_S:-420}" node "$repo/scripts/gpu/e2e-placement.mjs"
rc=$?
say "driver exit $rc"
grep -E '^(PASS|FAIL)' "$res/driver-log.txt" | cut -c1-400
exit "$rc"
