#!/usr/bin/env bash
# Builds llama-server (CPU, static) from the llama.cpp source shipped inside the node-llama-cpp
# npm package, cached per version under ${XDG_CACHE_HOME:-~/.cache}/cortex/. Prints the binary's path
# on the last line of stdout. Progress goes to stderr.
#   LLAMA_CUDA=1   adds -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90} (separate cache dir)
set -euo pipefail

version="${NODE_LLAMA_CPP_VERSION:-3.22.1}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cortex"
flavor=cpu
[ "${LLAMA_CUDA:-0}" = 1 ] && flavor=cuda
dir="$cache/llama.cpp-$version-$flavor"
bin="$dir/build/bin/llama-server"
say() { printf '[llama-server] %s\n' "$*" >&2; }

if [ -x "$bin" ]; then
  say "cached: $bin"
  echo "$bin"
  exit 0
fi

for tool in cmake c++ git npm tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "missing '$tool': install it first (Debian: apt-get install -y cmake g++ git)"
    exit 1
  fi
done

mkdir -p "$dir"
work="$(mktemp -d "$cache/pack.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ ! -d "$dir/src/.git" ]; then
  say "fetching node-llama-cpp@$version (llama.cpp source, ~36 MB)"
  (cd "$work" && npm pack --silent "node-llama-cpp@$version" >/dev/null)
  tar -xzf "$work"/node-llama-cpp-*.tgz -C "$work" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  rm -rf "$dir/src"
  git -c advice.detachedHead=false clone --quiet "$work/package/llama/gitRelease.bundle" "$dir/src"
  cp "$work/package/llama/llama.cpp.info.json" "$dir/"
fi

flags=(-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF)
[ "$flavor" = cuda ] && flags+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90}")

jobs="$(nproc 2>/dev/null || echo 2)"
say "configuring ($flavor) in $dir/build"
cmake -S "$dir/src" -B "$dir/build" "${flags[@]}" >"$dir/configure.log" 2>&1 \
  || { tail -n 30 "$dir/configure.log" >&2; say "cmake configure failed (log: $dir/configure.log)"; exit 1; }
say "building target llama-server with $jobs jobs (about 7 minutes on 2 cores, once per machine)"
# `|| true`: under `set -e -o pipefail` a failed build would exit here, before the check below prints the log tail.
cmake --build "$dir/build" --target llama-server -j "$jobs" 2>&1 | tee "$dir/build.log" \
  | grep --line-buffered -E '^\[ *[0-9]+%\]' | awk '{ print "[llama-server] " $1 " " $2; fflush() }' >&2 || true
[ -x "$bin" ] || { tail -n 30 "$dir/build.log" >&2; say "build failed (log: $dir/build.log)"; exit 1; }
say "built: $bin"
echo "$bin"
