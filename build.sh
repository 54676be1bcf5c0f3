#!/usr/bin/env bash
# Phantom build entry point.
#   ./build.sh              install dependencies (npm ci) if needed, build dist/phantom and dist/phantom-relay
#   ./build.sh test         build, then type-check, format check and every test (unit + end-to-end)
#   ./build.sh bench [relay|crypto|abuse]   run the benchmarks (not tests)
#   ./build.sh format       rewrite files with the formatter
set -euo pipefail
cd "$(dirname "$0")"

BUN=node_modules/.bin/bun
TARGET=${PHANTOM_BUILD_TARGET:-}

install() {
  # npm ci when node_modules is missing or older than the lockfile.
  if [ ! -x "$BUN" ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

build() {
  install
  mkdir -p dist
  local target_flag=()
  [ -n "$TARGET" ] && target_flag=(--target "$TARGET")
  # Code splitting keeps each lazily imported module (and the node built-ins it imports)
  # out of the startup path, and bytecode skips parsing: `--version` and `--help` then
  # start in about the time of an empty program.
  local flags=(--compile --minify --sourcemap=none --splitting --bytecode --format=esm "${target_flag[@]}")
  # A binary reads nothing from the folder it is started in: no bunfig.toml (its preload
  # would run code inside Phantom), no .env* (it would change PHANTOM_RELAY, PHANTOM_TOR or
  # NODE_TLS_REJECT_UNAUTHORIZED), no tsconfig.json or package.json (off by default; stated so
  # that a change of Bun's default cannot turn them on). tests/hostile-cwd.test.ts checks it.
  flags+=(--no-compile-autoload-bunfig --no-compile-autoload-dotenv)
  flags+=(--no-compile-autoload-tsconfig --no-compile-autoload-package-json)
  "$BUN" build "${flags[@]}" phantom.ts --outfile dist/phantom
  "$BUN" build "${flags[@]}" relay.ts --outfile dist/phantom-relay
  rm -f ./*.bun-build 2>/dev/null || true
}

case "${1:-build}" in
  build)
    build
    ;;
  test)
    build
    echo "== type-check"
    node_modules/.bin/tsc --noEmit -p .
    echo "== format check"
    node_modules/.bin/prettier --check --log-level warn .
    echo "== tests"
    shift
    # bunfig.toml [test] timeout is not read by this Bun; give end-to-end tests room here.
    "$BUN" test --timeout 60000 "$@"
    ;;
  bench)
    install
    shift
    what=${1:-all}
    case "$what" in
      relay) build; "$BUN" bench/relay.ts ;;
      abuse) build; shift; "$BUN" bench/abuse.ts "$@" ;;
      crypto) "$BUN" bench/crypto.ts ;;
      all) "$BUN" bench/crypto.ts; build; "$BUN" bench/relay.ts ;;
      *) echo "build.sh: error: unknown benchmark '$what' (relay, crypto, abuse)" >&2; exit 2 ;;
    esac
    ;;
  format)
    install
    node_modules/.bin/prettier --write --log-level warn .
    ;;
  *)
    echo "usage: ./build.sh [build|test|bench [relay|crypto|abuse]|format]" >&2
    exit 2
    ;;
esac
