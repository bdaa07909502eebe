#!/usr/bin/env bash
# Measures what a CUDA llama-server really holds on the GPU, for gateway/models/ESTIMATE.md.
# Runs on a CUDA machine with no network, from the repository root, with in .device/:
#   llama-src.tar.xz   llama.cpp's source (node-llama-cpp@3.22.1) without models/, docs/, tests/ and foreign backends
#   models/            GGUF headers + models.txt from `npx tsx scripts/gpu/make-models.ts .device/models`
#   llama-server.xz.*  optional: a binary this script built before (it saves one to $OUT), skips the build
# For each line of scripts/gpu/vram-runs.txt (or $RUNS) it starts llama-server, waits for /health, reads the
# process's GPU memory (nvidia-smi), evaluates one long prompt, reads it again, and keeps the log (-lv 4 prints
# the buffer sizes). It ran as `BUDGET_S=550 bash scripts/gpu/measure-vram.sh` through the device tool, carrying
# .device, then with RUNS=scripts/gpu/vram-runs-heldout.txt.
# Writes $OUT/results.tgz (runs.csv, logs/, nvidia-smi captures) after every run, so a cut-off run keeps the rest.
# BUDGET_S: seconds after which no further run starts (default 540); RUNS: another list of runs;
# LLAMA_SERVER: an existing binary (to try this script on a machine without CUDA).
set -uo pipefail
out="${OUT:?OUT must name the folder for results}"
dev="$PWD/.device"
work=/tmp/cortex-vram
res="$work/res"
bin="$work/build/bin/llama-server"
deadline=$((SECONDS + ${BUDGET_S:-540}))
mkdir -p "$work/src" "$work/models" "$res/logs" "$(dirname "$bin")"
say() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }
pack() { tar -czf "$out/results.tgz.tmp" -C "$res" . && mv "$out/results.tgz.tmp" "$out/results.tgz"; }
smi_gpu() { nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw,power.limit --format=csv,noheader,nounits; }
smi_apps() { nvidia-smi --query-compute-apps=pid,process_name,used_memory,gpu_uuid --format=csv,noheader,nounits; }
# MiB the process holds on the GPU; empty when it holds nothing.
proc_mib() { nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | awk -F', *' -v p="$1" '$1 == p { print $2 }'; }
gpu_used() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -n 1; }

nvidia-smi >"$res/nvidia-smi.txt" 2>&1
smi_gpu >"$res/query-idle.csv"
smi_apps >"$res/apps-idle.csv"
nvcc --version >"$res/nvcc.txt" 2>&1

if [ -n "${LLAMA_SERVER:-}" ]; then
  cp "$LLAMA_SERVER" "$bin"
elif ls "$dev"/llama-server.xz.* >/dev/null 2>&1; then
  cat "$dev"/llama-server.xz.* | xz -d >"$bin" && chmod +x "$bin"
  say "using the carried llama-server"
else
  tar -xJf "$dev/llama-src.tar.xz" -C "$work/src"
  say "configuring"
  # bf16 KV is not measured: leaving its flash-attention kernels out shortens the build.
  cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 '-DGGML_CUDA_FA_QUANTS=f16-f16;q8_0-q8_0;q4_0-q4_0' \
    >"$res/configure.log" 2>&1 || { tail -n 40 "$res/configure.log"; pack; exit 1; }
  say "building"
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$res/build.log" 2>&1 || { tail -n 60 "$res/build.log"; pack; exit 1; }
  say "built: $(du -h "$bin" | cut -f1)"
  # Saved in 15 MiB pieces (a file from $OUT may hold 16), so a later call can carry it instead of building.
  (xz -T4 -6 -c "$bin" | split -b 15m -d - "$out/llama-server.xz." && say "saved $(du -ch "$out"/llama-server.xz.* | tail -n 1)") &
fi
"$bin" --version >"$res/version.txt" 2>&1

while read -r name size; do
  cp "$dev/models/$name.head" "$work/models/$name.gguf" && truncate -s "$size" "$work/models/$name.gguf"
done <"$dev/models/models.txt"

echo 'id,model,args,gpu_used_before_mib,proc_idle_mib,proc_after_prompt_mib,gpu_used_idle_mib,gpu_used_after_prompt_mib,prompt_tokens,load_s,status' >"$res/runs.csv"
port=18080
first=1
while read -r id model args; do
  case "$id" in '' | '#'*) continue ;; esac
  if ((SECONDS + 40 > deadline)); then say "out of time before $id"; break; fi
  port=$((port + 1))
  log="$res/logs/$id.log"
  before=$(gpu_used)
  t0=$SECONDS
  # shellcheck disable=SC2086 # args is a list of flags
  "$bin" -m "$work/models/$model.gguf" --host 127.0.0.1 --port "$port" -lv 4 $args >"$log" 2>&1 </dev/null &
  pid=$!
  status=timeout
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then status=died; break; fi
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then status=ok; break; fi
    sleep 0.3
  done
  load=$((SECONDS - t0))
  idle='' busy='' gidle='' gbusy='' n=0
  if [ "$status" = ok ]; then
    idle=$(proc_mib "$pid")
    gidle=$(gpu_used)
    slot=$(grep -a -o 'n_ctx_slot = [0-9]*' "$log" | head -n 1 | grep -o '[0-9]*$')
    n=$(((${slot:-2048} - 16) < 2000 ? ${slot:-2048} - 16 : 2000))
    body="{\"prompt\":[$(seq -s, 300 $((300 + n - 1)))],\"n_predict\":8,\"cache_prompt\":false}"
    if [ "$first" = 1 ]; then
      # The monitor's captures: while a long generation runs on all slots.
      curl -s "http://127.0.0.1:$port/completion" -d "{\"prompt\":[300,301,302],\"n_predict\":400}" >/dev/null </dev/null &
      sleep 1
      smi_gpu >"$res/query-llama-server.csv"
      smi_apps >"$res/apps-llama-server.csv"
      wait $!
      first=0
    fi
    curl -s "http://127.0.0.1:$port/completion" -d "$body" >"$res/logs/$id.completion.json" </dev/null
    busy=$(proc_mib "$pid")
    gbusy=$(gpu_used)
  fi
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "$id,$model,\"$args\",$before,$idle,$busy,$gidle,$gbusy,$n,$load,$status" >>"$res/runs.csv"
  say "$id $status load ${load}s idle ${idle:-?} MiB after prompt ${busy:-?} MiB"
  pack
done <"${RUNS:-scripts/gpu/vram-runs.txt}"

wait
pack
say "done"
