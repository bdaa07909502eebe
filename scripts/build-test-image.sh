#!/usr/bin/env bash
# Assembles a Docker image that runs a llama-server binary the way the official llama.cpp server image does
# (ENTRYPOINT /app/llama-server), from the binary and the shared libraries `ldd` lists, with `docker import`:
# no registry and no base image needed. Talks to the daemon in DOCKER_HOST (or the default socket).
#   scripts/build-test-image.sh <llama-server binary> <image tag>
set -euo pipefail

bin="${1:?usage: build-test-image.sh <llama-server binary> <image tag>}"
tag="${2:?usage: build-test-image.sh <llama-server binary> <image tag>}"
say() { printf '[test-image] %s\n' "$*" >&2; }

for tool in docker ldd tar; do
  command -v "$tool" >/dev/null 2>&1 || { say "missing '$tool'"; exit 1; }
done
[ -x "$bin" ] || { say "$bin is not an executable file"; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/app" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$bin" "$root/app/llama-server"

# Each library goes where the dynamic loader will look for it: the path ldd resolved (`name => /path (addr)`),
# or the loader's own absolute path (`/lib64/ld-linux-x86-64.so.2 (addr)`). -L copies the file behind a symlink.
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

say "importing $tag"
tar -C "$root" -c . | docker import --change 'ENTRYPOINT ["/app/llama-server"]' - "$tag" >/dev/null
say "built $tag"
