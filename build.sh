#!/usr/bin/env bash
# Phantom build entry point.
#   ./build.sh              install dependencies (npm ci) if needed, build dist/phantom and dist/phantom-relay
#   ./build.sh test         install the tools the tests drive if missing (tmux, microsocks, python3 with
#                           cryptography and requests: apt-get or brew), build, then type-check, format
#                           check and every test (unit + end-to-end)
#   ./build.sh test fast    only the unit tests beside the code (lib/, client/, relay/) and tests/arch.test.ts, in seconds:
#                           no build, no tools (the relay runs inside the test process); prints the time
#   ./build.sh screens      build, then rewrite the README's terminal pictures (docs/screens/*.txt and the
#                           <!-- screen:NAME --> blocks of README.md) from tests/tmux-menu.test.ts and
#                           tests/tmux-chat.test.ts; `./build.sh test` only compares them and fails when stale
#   ./build.sh docs         write the man pages and shell completions from the programs' definitions:
#                           dist/man/{phantom,phantom-relay}.1, dist/completions/{phantom.bash,_phantom,phantom.fish}
#   ./build.sh tools        only install the tools the tests drive, if missing, and say where they are
#   ./build.sh bench [relay|scale|daemon|crypto|v3|state|client|files|abuse|relay-ab|size|update]   run the benchmarks (not tests)
#   ./build.sh release      build phantom and phantom-relay for every release target, the man pages and
#                           completions, and write the signed release (release/cli.ts): archives
#                           <program>-<os>-<arch>.tar.xz (.zip for windows), SHA256SUMS, a .minisig for each,
#                           latest.json and latest.json.minisig into dist/release/<version>/. Reads
#                           PHANTOM_RELEASE_KEY_FILE (minisign secret key, required; its public key must be the
#                           one compiled in), PHANTOM_RELEASE_KEY_PASSWORD (else asked on the terminal; none for
#                           a `minisign -G -W` key), PHANTOM_RELEASE_NOTES, PHANTOM_RELEASE_TARGETS (comma list of
#                           Bun targets, default the five), PHANTOM_RELEASE_XZ_LEVEL (default 9),
#                           PHANTOM_RELEASE_DIR, and the build variables below
#   ./build.sh release-key [dir] [-W]   a new release key pair: dir/phantom-release.key (0600, encrypted with a
#                           password asked twice, or unencrypted with -W) and dir/phantom-release.pub (dir
#                           default release/); prints the key id and the `minisign -Vm … -P …` line
#   ./build.sh bench size   build, then print the binary sizes and their xz -9 sizes
#   ./build.sh bench update [level]   time `phantom update` from a local HTTPS release (xz level, default 9)
#   ./build.sh format       rewrite files with the formatter
# A build reads: PHANTOM_VERSION (default package.json's), PHANTOM_RELEASE_PUB_FILE (the minisign
# public key compiled in, default release/phantom-release.pub), PHANTOM_DEFAULT_UPDATE_URL (default
# none), PHANTOM_BUILD_TARGET (a Bun target, default this machine) and PHANTOM_BUILD_OUT (default dist).
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

# What the tests drive besides node_modules: tmux (tests/tmux-*.test.ts), microsocks (a real
# SOCKS5 proxy standing in for Tor: tests/tor-transport.test.ts, tests/cli-tor.test.ts), minisign
# (the real tool checks the release signatures: release/*.test.ts, tests/release-build.test.ts) and
# a python3 that imports cryptography and requests (tests/interop.test.ts), and for the scaled relay
# (issue 13) PostgreSQL, redis-server and haproxy, each started by the tests on 127.0.0.1 in a
# temporary folder (tests/helpers/pg-server.ts, redis-server.ts, haproxy.ts). `./build.sh test`
# installs the missing ones with apt-get (Debian, Ubuntu; sudo when not root) or brew (macOS);
# when everything is there it installs nothing.
PY_VENV=node_modules/.cache/phantom-test-python

# The first python3 that imports cryptography and requests (the candidates of tests/interop.test.ts).
find_python() {
  local py
  for py in "${PHANTOM_PYTHON:-}" python3 /usr/bin/python3 /usr/local/bin/python3 "$PY_VENV/bin/python3"; do
    if [ -n "$py" ] && "$py" -c "import cryptography, requests" >/dev/null 2>&1; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

# The missing tools, as words: tmux, microsocks, python.
missing_test_tools() {
  local m=()
  command -v tmux >/dev/null 2>&1 || m+=(tmux)
  command -v microsocks >/dev/null 2>&1 || m+=(microsocks)
  command -v minisign >/dev/null 2>&1 || m+=(minisign)
  find_python >/dev/null || m+=(python)
  find_postgres >/dev/null || m+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || m+=(redis-server)
  command -v haproxy >/dev/null 2>&1 || command -v /usr/sbin/haproxy >/dev/null 2>&1 || m+=(haproxy)
  echo "${m[*]}"
}

# The folder of PostgreSQL's server programs (initdb, postgres, pg_ctl): on PATH, or Debian's
# /usr/lib/postgresql/<major>/bin (the newest), which is not on PATH. tests/helpers/pg-server.ts
# reads PHANTOM_PG_BIN.
find_postgres() {
  local d
  if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

describe_tools() { echo "$1" | sed 's/python/python3 with cryptography and requests/'; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "build.sh: error: installing $(describe_tools "$missing") needs root or sudo" >&2
    exit 1
  fi
}

install_test_tools() {
  missing=$(missing_test_tools)
  if [ -n "$missing" ]; then
    echo "== installing what the tests need: $(describe_tools "$missing")"
    local t pkgs=()
    if command -v apt-get >/dev/null 2>&1; then
      for t in $missing; do
        case $t in
          python) pkgs+=(python3 python3-cryptography python3-requests) ;;
          # Tests run their own server in a temporary folder, never the cluster the package starts.
          postgresql) pkgs+=(postgresql) ;;
          *) pkgs+=("$t") ;;
        esac
      done
      as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" ||
        { echo "build.sh: error: apt-get could not install ${pkgs[*]}" >&2; exit 1; }
    elif command -v brew >/dev/null 2>&1; then
      for t in $missing; do
        case $t in
          # Homebrew's python refuses pip installs (PEP 668): a private venv, found by find_python.
          python)
            { command -v python3 >/dev/null 2>&1 || brew install python; } &&
              python3 -m venv "$PY_VENV" && "$PY_VENV/bin/pip" install --quiet cryptography requests ||
              { echo "build.sh: error: could not make a python3 with cryptography and requests in $PY_VENV" >&2; exit 1; }
            ;;
          redis-server) brew install redis || { echo "build.sh: error: brew could not install redis" >&2; exit 1; } ;;
          *) brew install "$t" || { echo "build.sh: error: brew could not install $t" >&2; exit 1; } ;;
        esac
      done
    else
      echo "build.sh: error: the tests need $(describe_tools "$missing"): install them (found neither apt-get nor brew)" >&2
      exit 1
    fi
    missing=$(missing_test_tools)
    if [ -n "$missing" ]; then
      echo "build.sh: error: still missing after installing: $(describe_tools "$missing")" >&2
      exit 1
    fi
  fi
  # tests/interop.test.ts looks here first (the venv is not on PATH).
  PHANTOM_PYTHON=$(find_python)
  PHANTOM_PG_BIN=$(find_postgres)
  export PHANTOM_PYTHON PHANTOM_PG_BIN
}

build() {
  install
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
  # What the binary fixes at build time (lib/version.ts): its version, the release public key
  # updates must be signed with, and the default update URL (empty unless a maintainer gives one).
  local version pub_file=${PHANTOM_RELEASE_PUB_FILE:-release/phantom-release.pub}
  version=${PHANTOM_VERSION:-$(node -p 'require("./package.json").version')}
  [ -r "$pub_file" ] || { echo "build.sh: error: cannot read the release public key $pub_file" >&2; exit 1; }
  flags+=(--define "__PHANTOM_VERSION__=$(json_string "$version")")
  flags+=(--define "__PHANTOM_RELEASE_PUB__=$(json_string "$(cat "$pub_file")")")
  flags+=(--define "__PHANTOM_DEFAULT_UPDATE_URL__=$(json_string "${PHANTOM_DEFAULT_UPDATE_URL:-}")")
  local out=${PHANTOM_BUILD_OUT:-dist} ext=
  case "$TARGET" in *windows*) ext=.exe ;; esac
  mkdir -p "$out"
  "$BUN" build "${flags[@]}" phantom.ts --outfile "$out/phantom$ext"
  "$BUN" build "${flags[@]}" relay.ts --outfile "$out/phantom-relay$ext"
  rm -f ./*.bun-build 2>/dev/null || true
}

# A shell string as a JSON string literal (for --define).
json_string() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }

case "${1:-build}" in
  build)
    build
    ;;
  test)
    if [ "${2:-}" = fast ]; then
      install
      shift 2
      SECONDS=0
      rc=0
      "$BUN" test --timeout 60000 ./lib ./client ./relay ./tests/arch.test.ts "$@" || rc=$?
      echo "== unit tests took ${SECONDS} s"
      exit "$rc"
    fi
    install # first: npm ci would delete a Python venv made under node_modules
    install_test_tools
    build
    echo "== type-check"
    node_modules/.bin/tsc --noEmit -p .
    echo "== format check"
    node_modules/.bin/prettier --check --log-level warn .
    echo "== tests"
    shift
    # bunfig.toml [test] timeout is not read by this Bun; give end-to-end tests room here.
    # Test files run in PHANTOM_TEST_JOBS worker processes (default 4 on 2 cores: most of an
    # end-to-end test is waiting on other processes — a suite run used 1.2 cores with 2 workers);
    # what several files share (the release fixture of
    # tests/helpers/release.ts) is built once into PHANTOM_TEST_SHARED_DIR.
    PHANTOM_TEST_SHARED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/phantom-test-shared-XXXXXX")
    export PHANTOM_TEST_SHARED_DIR
    trap 'rm -rf "$PHANTOM_TEST_SHARED_DIR"' EXIT
    SECONDS=0
    rc=0
    "$BUN" test --timeout 60000 --parallel="${PHANTOM_TEST_JOBS:-4}" "$@" || rc=$?
    echo "== tests took ${SECONDS} s"
    exit "$rc"
    ;;
  screens)
    install
    install_test_tools
    build
    echo "== screens"
    # The tmux tests write their captures instead of comparing them (tests/helpers/readme-screens.ts).
    PHANTOM_WRITE_SCREENS=1 "$BUN" test --timeout 60000 tests/tmux-menu.test.ts tests/tmux-chat.test.ts
    ;;
  docs)
    install
    "$BUN" docs/generate.ts dist
    ;;
  tools)
    install
    install_test_tools
    echo "tmux: $(command -v tmux)"
    echo "microsocks: $(command -v microsocks)"
    echo "python3 with cryptography and requests: $PHANTOM_PYTHON"
    echo "minisign: $(command -v minisign)"
    echo "postgresql: $PHANTOM_PG_BIN"
    echo "redis-server: $(command -v redis-server)"
    echo "haproxy: $(command -v haproxy || echo /usr/sbin/haproxy)"
    ;;
  bench)
    install
    shift
    what=${1:-all}
    case "$what" in
      relay) build; "$BUN" bench/relay.ts ;;
      abuse) build; shift; "$BUN" bench/abuse.ts "$@" ;;
      relay-ab) build; shift; "$BUN" bench/relay-ab.ts "$@" ;;
      crypto) "$BUN" bench/crypto.ts ;;
      update) shift; "$BUN" bench/update.ts "$@" ;;
      state) "$BUN" bench/state-db.ts ;;
      v3) "$BUN" bench/v3.ts ;;
      client) "$BUN" bench/client.ts && "$BUN" bench/client-session.ts ;;
      files) "$BUN" bench/files-v3.ts ;;
      scale) build; install_test_tools; "$BUN" bench/scale.ts ;;
      daemon) build; "$BUN" bench/daemon.ts ;;
      size)
        build
        out=${PHANTOM_BUILD_OUT:-dist}
        for f in "$out/phantom" "$out/phantom-relay"; do
          printf '%-24s %10s bytes, xz -9 %10s bytes\n' "$f" "$(wc -c <"$f")" "$(xz -9 -T1 -c "$f" | wc -c)"
        done
        ;;
      all) "$BUN" bench/crypto.ts; build; "$BUN" bench/relay.ts ;;
      *) echo "build.sh: error: unknown benchmark '$what' (relay, scale, daemon, crypto, v3, state, client, files, abuse, relay-ab, size, update)" >&2; exit 2 ;;
    esac
    ;;
  release)
    install
    "$BUN" release/cli.ts release
    ;;
  release-key)
    install
    shift
    "$BUN" release/cli.ts key "$@"
    ;;
  format)
    install
    node_modules/.bin/prettier --write --log-level warn .
    ;;
  *)
    echo "usage: ./build.sh [build|test [fast]|screens|docs|tools|bench [relay|scale|daemon|crypto|v3|state|client|files|abuse|relay-ab|size|update]|release|release-key [dir] [-W]|format]" >&2
    exit 2
    ;;
esac
