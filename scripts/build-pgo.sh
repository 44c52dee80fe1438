#!/usr/bin/env bash
# A profile-guided (PGO) release build of gatehouse: an instrumented build runs a short
# training workload (the benchmarks' hot paths), its profile is merged, and the release
# binary is rebuilt with it.
#
#   scripts/build-pgo.sh                 the whole build: TARGET/release/gatehouse
#   scripts/build-pgo.sh --check         only checks the tools (llvm-profdata and its
#                                        LLVM version, the training's programs)
#   scripts/build-pgo.sh --train BINARY  only runs the training workload against BINARY
#                                        (any build; fails when a scenario fails)
#
# TARGET is CARGO_TARGET_DIR (default: target). Steps:
#  1. llvm-profdata from the `llvm-tools` rustup component (installed with rustup when
#     missing); its LLVM major version must be rustc's (`rustc -vV`).
#  2. `cargo build --release` with `-Cprofile-generate` into TARGET/pgo-gen.
#  3. The training (scripts/lib/pgo-train.sh, about 7 × TRAIN_DUR seconds, TRAIN_DUR=3):
#     `ka`, `close`, `64k`, `tls`, `tlsclose` and `h2` loads as scripts/bench-ir.sh
#     sends them (nginx backends, wrk, h2load), health checks, a reload in place and a
#     soft stop. The raw profiles go to TARGET/pgo/raw (emptied first).
#  4. `llvm-profdata merge` into TARGET/pgo/merged.profdata (generated, never committed).
#  5. `cargo build --release` with `-Cprofile-use=TARGET/pgo/merged.profdata
#     -Cllvm-args=-no-pgo-warn-mismatch` into TARGET: TARGET/release/gatehouse.
# RUSTFLAGS given by the caller are kept and go to both builds (PGO_EXTRA_RUSTFLAGS go to
# the final one only). The final build's RUSTFLAGS differ from a plain build's, so a
# later plain `cargo build --release` into the same TARGET rebuilds everything.
# Needs: the Rust toolchain through rustup, nginx, wrk, h2load (nghttp2-client),
# openssl, curl, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=build
case ${1:-} in
  "") ;;
  --check) mode=check ;;
  --train) mode=train; train_bin=${2:?--train needs a binary} ;;
  *) echo "build-pgo.sh: unknown argument $1 (--check, --train BINARY)" >&2; exit 2 ;;
esac
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
pgo=$target/pgo
TRAIN_DUR=${TRAIN_DUR:-3}

need_training_tools() {
  local tool
  for tool in nginx wrk h2load openssl python3; do
    command -v "$tool" >/dev/null || {
      echo "build-pgo.sh: $tool is not installed (the training needs it)" >&2
      exit 2
    }
  done
}

# llvm_profdata: prints the path of the toolchain's llvm-profdata, installing the
# llvm-tools component when it is missing; fails when its LLVM is not rustc's.
llvm_profdata() {
  local sysroot host tool rustc_llvm tool_llvm
  sysroot=$(rustc --print sysroot)
  host=$(rustc -vV | awk '/^host:/ {print $2}')
  tool=$sysroot/lib/rustlib/$host/bin/llvm-profdata
  if [ ! -x "$tool" ]; then
    echo "build-pgo.sh: installing the llvm-tools component (llvm-profdata)" >&2
    rustup component add llvm-tools >&2
  fi
  [ -x "$tool" ] || { echo "build-pgo.sh: no llvm-profdata at $tool" >&2; exit 2; }
  rustc_llvm=$(rustc -vV | awk '/^LLVM version:/ {split($3, v, "."); print v[1]}')
  tool_llvm=$("$tool" --version | awk '/LLVM version/ {split($3, v, "."); print v[1]}')
  if [ -z "$rustc_llvm" ] || [ "$rustc_llvm" != "$tool_llvm" ]; then
    echo "build-pgo.sh: llvm-profdata is LLVM $tool_llvm, rustc is LLVM $rustc_llvm" >&2
    exit 2
  fi
  echo "$tool"
}

train() {
  # shellcheck source=lib/common.sh
  . "$root/scripts/lib/common.sh"
  # shellcheck source=lib/bench-http.sh
  . "$root/scripts/lib/bench-http.sh"
  # shellcheck source=lib/pgo-train.sh
  . "$root/scripts/lib/pgo-train.sh"
  chmod 755 "$work"
  pgo_train "$1" "$TRAIN_DUR"
}

case $mode in
  check)
    need_training_tools
    echo "build-pgo.sh: llvm-profdata $(llvm_profdata), training tools present"
    exit 0
    ;;
  train)
    need_training_tools
    (train "$train_bin")
    exit 0
    ;;
esac

need_training_tools
profdata=$(llvm_profdata)
cd "$root"
base_flags=${RUSTFLAGS:-}

echo "build-pgo.sh: instrumented build into $target/pgo-gen" >&2
mkdir -p "$pgo/raw"
RUSTFLAGS="$base_flags -Cprofile-generate=$pgo/raw" CARGO_TARGET_DIR=$target/pgo-gen \
  cargo build --release --bin gatehouse

# The build scripts of the instrumented build wrote profiles too: only the training's
# are kept.
rm -rf "$pgo/raw"
mkdir -p "$pgo/raw"
echo "build-pgo.sh: training ($TRAIN_DUR s per scenario)" >&2
(LLVM_PROFILE_FILE="$pgo/raw/gatehouse-%p-%m.profraw" train "$target/pgo-gen/release/gatehouse")
ls "$pgo/raw"/*.profraw >/dev/null 2>&1 || { echo "build-pgo.sh: the training wrote no profile" >&2; exit 1; }
"$profdata" merge -o "$pgo/merged.profdata" "$pgo/raw"
echo "build-pgo.sh: profile $pgo/merged.profdata" >&2

echo "build-pgo.sh: PGO build into $target" >&2
RUSTFLAGS="$base_flags -Cprofile-use=$pgo/merged.profdata -Cllvm-args=-no-pgo-warn-mismatch ${PGO_EXTRA_RUSTFLAGS:-}" \
  CARGO_TARGET_DIR=$target cargo build --release --bin gatehouse
echo "build-pgo.sh: $target/release/gatehouse"
