#!/bin/sh
# Phantom installer: downloads the release archive for this machine, checks the signature of SHA256SUMS
# with the public key written below and the archive's SHA-256 against it, then installs the binary,
# its man page and its shell completions for the current user. Nothing downloaded is ever run by a shell.
#
#   curl -fsSL <release folder>/install.sh | sh                 # or: sh install.sh [options]
#   curl -fsSL <release folder>/install.sh | sh -s -- --relay   # options through a pipe
#
# Options: --relay      also install phantom-relay
#          --no-verify  install even when neither minisign nor openssl >= 3 can check the signature
#                       (the SHA-256 of the archive is always checked)
# Environment: PHANTOM_RELEASE_URL  the folder holding the release files (https only)
#              PHANTOM_INSTALL_DIR  where the binaries go (default ~/.local/bin)
#
# Verify by hand instead: minisign -Vm SHA256SUMS -P <PUBKEY below>, then sha256sum -c --ignore-missing SHA256SUMS.
set -eu

# The release signing key: the key line of release/phantom-release.pub (tests/install.test.ts checks they match).
PUBKEY=RWS/NM3eTmAl7DDXeHfBF4B8K3jzLmNxJ8idaHhijcQaIn5Mkduj/o2Z
# Placeholder: the maintainer sets the project's real release folder here when publishing.
DEFAULT_RELEASE_URL=https://phantom.invalid/releases/latest
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 key bytes.
ED25519_SPKI_PREFIX='\060\052\060\005\006\003\053\145\160\003\041\000'

die() {
  echo "install.sh: error: $*" >&2
  exit 1
}
say() { echo "install.sh: $*"; }

no_verify=0
with_relay=0
for arg in "$@"; do
  case $arg in
    --no-verify) no_verify=1 ;;
    --relay) with_relay=1 ;;
    -h | --help)
      sed -n '2,15p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option '$arg' (use --relay, --no-verify)" ;;
  esac
done

url=${PHANTOM_RELEASE_URL:-$DEFAULT_RELEASE_URL}
url=${url%/}
case $url in
  https://*) ;;
  *) die "PHANTOM_RELEASE_URL must be an https:// URL, got '$url'" ;;
esac
install_dir=${PHANTOM_INSTALL_DIR:-$HOME/.local/bin}

# --- platform ---------------------------------------------------------------------------------
os_name=$(uname -s)
case $os_name in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN* | Windows*) die "on Windows use install.ps1 (see README)" ;;
  *) die "no Phantom release for the operating system '$os_name'" ;;
esac
machine=$(uname -m)
case $machine in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no Phantom release for the architecture '$machine'" ;;
esac
# A shell under Rosetta 2 reports x86_64 on an Apple silicon Mac: take the native build.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || true)" = 1 ]; then
  arch=arm64
fi

# --- tools ------------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }

download() { # url file
  if have curl; then
    curl -fsSL --proto '=https' --tlsv1.2 -o "$2" "$1" || die "could not download $1"
  elif have wget; then
    wget -q --https-only -O "$2" "$1" || die "could not download $1"
  else
    die "neither curl nor wget is installed"
  fi
}

sha256_of() {
  if have sha256sum; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif have shasum; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "neither sha256sum nor shasum is installed: cannot check the download"
  fi
}

openssl3() { # OpenSSL 3 or later (LibreSSL and OpenSSL 1.x lack raw Ed25519 verification with BLAKE2b)
  have openssl || return 1
  v=$(openssl version 2>/dev/null) || return 1
  case $v in
    "OpenSSL "[3-9].* | "OpenSSL "[1-9][0-9].*) return 0 ;;
    *) return 1 ;;
  esac
}

b64dec() { openssl base64 -d -A; }
hex_of() { od -An -v -tx1 "$1" | tr -d ' \n'; }
bytes() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null; } # file offset length

# minisign's prehashed signature checked with openssl: line 2 is base64("ED" || key id || Ed25519 signature of
# BLAKE2b-512(file)), line 4 the signature of (that signature || trusted comment).
verify_openssl() { # file sigfile
  d=$tmp/ossl
  mkdir "$d"
  printf '%s' "$PUBKEY" | b64dec >"$d/pub" || die "the public key in install.sh is not base64"
  sed -n 2p "$2" | b64dec >"$d/sig" || die "$(basename "$2") is not a minisign signature"
  sed -n 4p "$2" | b64dec >"$d/global" || die "$(basename "$2") is not a minisign signature"
  [ "$(wc -c <"$d/pub" | tr -d ' ')" = 42 ] || die "the public key in install.sh is not a minisign key"
  [ "$(wc -c <"$d/sig" | tr -d ' ')" = 74 ] || die "$(basename "$2") is not a minisign signature"
  [ "$(bytes "$d/pub" 0 2)" = Ed ] || die "the public key in install.sh is not an Ed25519 minisign key"
  [ "$(bytes "$d/sig" 0 2)" = ED ] || die "$(basename "$2") is not a prehashed (ED) minisign signature"
  bytes "$d/pub" 2 8 >"$d/pubid"
  bytes "$d/sig" 2 8 >"$d/sigid"
  [ "$(hex_of "$d/pubid")" = "$(hex_of "$d/sigid")" ] ||
    die "$(basename "$2") was made by another key (key id $(hex_of "$d/sigid"), expected $(hex_of "$d/pubid"))"
  # shellcheck disable=SC2059 # the octal escapes of the fixed prefix are the format on purpose
  printf "$ED25519_SPKI_PREFIX" >"$d/key.der"
  bytes "$d/pub" 10 32 >>"$d/key.der"
  bytes "$d/sig" 10 64 >"$d/ed"
  openssl dgst -blake2b512 -binary "$1" >"$d/digest"
  openssl pkeyutl -verify -pubin -inkey "$d/key.der" -keyform DER -rawin -in "$d/digest" -sigfile "$d/ed" \
    >/dev/null 2>&1 || die "the signature of $(basename "$1") does not verify: refusing to install"
  trusted=$(sed -n 3p "$2")
  case $trusted in
    "trusted comment: "*) ;;
    *) die "$(basename "$2") has no trusted comment" ;;
  esac
  cp "$d/ed" "$d/signed"
  printf '%s' "${trusted#trusted comment: }" >>"$d/signed"
  openssl pkeyutl -verify -pubin -inkey "$d/key.der" -keyform DER -rawin -in "$d/signed" -sigfile "$d/global" \
    >/dev/null 2>&1 || die "the trusted comment of $(basename "$2") does not verify: refusing to install"
}

# --- download and verify ----------------------------------------------------------------------
umask 077
tmp=$(mktemp -d 2>/dev/null || mktemp -d -t phantom-install) || die "could not make a temporary folder"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

programs=phantom
[ "$with_relay" = 1 ] && programs="phantom phantom-relay"

say "release $url ($os-$arch)"
download "$url/SHA256SUMS" "$tmp/SHA256SUMS"
download "$url/SHA256SUMS.minisig" "$tmp/SHA256SUMS.minisig"

if have minisign; then
  minisign -V -H -q -P "$PUBKEY" -x "$tmp/SHA256SUMS.minisig" -m "$tmp/SHA256SUMS" >/dev/null 2>&1 ||
    die "the signature of SHA256SUMS does not verify with the Phantom release key: refusing to install"
  say "signature of SHA256SUMS verified with minisign"
elif openssl3; then
  verify_openssl "$tmp/SHA256SUMS" "$tmp/SHA256SUMS.minisig"
  say "signature of SHA256SUMS verified with openssl"
elif [ "$no_verify" = 1 ]; then
  say "warning: neither minisign nor openssl >= 3 found: the signature of SHA256SUMS is NOT checked (--no-verify)"
else
  die "cannot check the release signature: install minisign (or openssl >= 3), or rerun with --no-verify"
fi

for program in $programs; do
  archive=$program-$os-$arch.tar.xz
  want=$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/SHA256SUMS")
  [ -n "$want" ] || die "SHA256SUMS lists no $archive: no release for $os-$arch?"
  download "$url/$archive" "$tmp/$archive"
  got=$(sha256_of "$tmp/$archive")
  [ "$got" = "$want" ] || die "$archive does not match SHA256SUMS (got $got): refusing to install"
  mkdir "$tmp/$program"
  tar -xJf "$tmp/$archive" -C "$tmp/$program" || die "could not unpack $archive"
  [ -f "$tmp/$program/$program" ] || die "$archive holds no $program binary"
done

# --- install ----------------------------------------------------------------------------------
umask 022
put() { # source target-dir name mode: copy beside the target, then rename over it
  [ -f "$1" ] || return 0
  mkdir -p "$2" || die "could not make $2"
  cp "$1" "$2/.$3.new" && chmod "$4" "$2/.$3.new" && mv -f "$2/.$3.new" "$2/$3" || die "could not write $2/$3"
}
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
for program in $programs; do
  src=$tmp/$program
  put "$src/$program" "$install_dir" "$program" 755
  say "installed $install_dir/$program"
  put "$src/$program.1" "$data_home/man/man1" "$program.1" 644
done
put "$tmp/phantom/completions/phantom.bash" "$data_home/bash-completion/completions" phantom 644
put "$tmp/phantom/completions/_phantom" "$data_home/zsh/site-functions" _phantom 644
put "$tmp/phantom/completions/phantom.fish" "$config_home/fish/completions" phantom.fish 644

case ":${PATH:-}:" in
  *":$install_dir:"*) say "next: run 'phantom init'" ;;
  *)
    say "$install_dir is not on your PATH: add it, e.g. echo 'export PATH=\"$install_dir:\$PATH\"' >> ~/.profile"
    say "next: run '$install_dir/phantom init'"
    ;;
esac
