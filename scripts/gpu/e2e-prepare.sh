#!/usr/bin/env bash
# Makes .device/e2e for scripts/gpu/e2e-placement.sh, here (x86-64 Linux with `npm ci` done), small enough to carry
# through the device tool (64 MiB with the working tree):
#   node.xz          this machine's node, stripped, xz with the x86 filter (~12 MB)
#   llama-server.xz  the CUDA llama-server measure-vram.sh saved (.device/llama-server.xz.*), stripped, recompressed
#                    (~42 MB); absent, e2e-placement.sh builds one from .device/llama-src.tar.xz
#   app.tar.xz       cortex.mjs (Cortex bundled by esbuild; e2e-placement.sh unpacks it two folders below links to the
#                    repository's recipes/ and package.json, which the bundle looks for at ../../), a node_modules with
#                    better-sqlite3 and its loader (native, left out of the bundle), and the p3mini-q4km GGUF header and
#                    models.txt from .device/models (scripts/gpu/make-models.ts)
set -euo pipefail
e2e=.device/e2e
mkdir -p "$e2e"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$e2e/node.xz" ]; then
  strip -o "$tmp/node" "$(command -v node)"
  xz --x86 --lzma2=preset=9e -c "$tmp/node" >"$e2e/node.xz"
fi
if [ ! -f "$e2e/llama-server.xz" ] && ls .device/llama-server.xz.* >/dev/null 2>&1; then
  cat .device/llama-server.xz.* | xz -d >"$tmp/llama-server"
  strip "$tmp/llama-server"
  xz --x86 --lzma2=preset=9e -c "$tmp/llama-server" >"$e2e/llama-server.xz"
fi

app="$tmp/app"
mkdir -p "$app/node_modules/better-sqlite3/build/Release"
printf '%s\n' "import { main } from '$PWD/gateway/cli/main.ts'" 'process.exitCode = await main(process.argv.slice(2))' >"$tmp/entry.ts"
# CommonJS dependencies (ssh2) use require, __dirname and __filename: the banner defines them.
# pino writes through pino.destination (no worker thread), so the bundle needs no transport files.
npx esbuild "$tmp/entry.ts" --bundle --platform=node --format=esm --target=node20 --minify-syntax --minify-whitespace \
  --external:better-sqlite3 --external:cpu-features '--external:*.node' --log-level=error --outfile="$app/cortex.mjs" \
  --banner:js="import { createRequire as __cortexRequire } from 'node:module'; import { fileURLToPath as __cortexPath } from 'node:url'; import { dirname as __cortexDir } from 'node:path'; const require = __cortexRequire(import.meta.url), __filename = __cortexPath(import.meta.url), __dirname = __cortexDir(__filename);"
cp -r node_modules/better-sqlite3/package.json node_modules/better-sqlite3/lib "$app/node_modules/better-sqlite3/"
cp node_modules/better-sqlite3/build/Release/better_sqlite3.node "$app/node_modules/better-sqlite3/build/Release/"
cp -r node_modules/bindings node_modules/file-uri-to-path "$app/node_modules/"
cp .device/models/p3mini-q4km.head .device/models/models.txt "$app/"
tar -cJf "$e2e/app.tar.xz" -C "$app" .
du -b "$e2e"/* | sort -n
