#!/usr/bin/env bash
# Assembles a Docker image that plays vLLM's OpenAI server image for tests (test/support/vllm-standin.mjs), with
# `docker import` from a Node binary, the shared libraries `ldd` lists and the script: no registry, no base image.
# Its ENTRYPOINT is the official vllm/vllm-openai image's, ["vllm", "serve"], so containers get exactly the
# arguments Cortex's vLLM container plan gives the real one. Talks to the daemon in DOCKER_HOST (or the default).
#   scripts/build-vllm-standin-image.sh <node binary> <image tag>
set -euo pipefail

node_bin="${1:?usage: build-vllm-standin-image.sh <node binary> <image tag>}"
tag="${2:?usage: build-vllm-standin-image.sh <node binary> <image tag>}"
script="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/test/support/vllm-standin.mjs"
say() { printf '[vllm-standin-image] %s\n' "$*" >&2; }

for tool in docker ldd tar env; do
  command -v "$tool" >/dev/null 2>&1 || { say "missing '$tool'"; exit 1; }
done
[ -x "$node_bin" ] || { say "$node_bin is not an executable file"; exit 1; }
env_bin="$(readlink -f "$(command -v env)")"

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/opt/vllm-standin" "$root/tmp"
chmod 1777 "$root/tmp"
cp -L "$node_bin" "$root/usr/local/bin/node"
# The script's `#!/usr/bin/env node` finds node on PATH, as it does on a developer's machine.
cp "$env_bin" "$root/usr/bin/env"
install -m 0755 "$script" "$root/opt/vllm-standin/vllm-standin.mjs"
# `vllm` is a link, so Node sees the script's real `.mjs` name and loads it as an ES module.
ln -s /opt/vllm-standin/vllm-standin.mjs "$root/usr/local/bin/vllm"

# Each library goes where the dynamic loader will look for it: the path ldd resolved (`name => /path (addr)`),
# or the loader's own absolute path (`/lib64/ld-linux-x86-64.so.2 (addr)`). -L copies the file behind a symlink.
{ ldd "$node_bin"; ldd "$env_bin"; } | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

say "importing $tag"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENTRYPOINT ["vllm", "serve"]' \
  - "$tag" >/dev/null
say "built $tag"
