#!/usr/bin/env bash
# The one command that runs gatehouse's whole test suite on a fresh Debian 12
# machine with Rust: installs missing system tools (scripts/install-deps.sh),
# then runs formatting check, clippy and every test target (unit,
# integration, differential against haproxy) and a bounded run of each fuzz
# target. All steps run; the script exits non-zero if any of them failed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

failed=()
step() {
    local name="$1"
    shift
    printf '\n==> %s\n' "$name"
    if ! "$@"; then
        printf '==> FAILED: %s\n' "$name" >&2
        failed+=("$name")
    fi
}

# One clean build: incremental-compilation state would only take disk (it came to
# 21 GB beside the ~140 test binaries) and is never reused by a CI run.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The disk the build takes (the hand-in of 2026-12-07 failed on a full disk).
disk() {
    printf '==> disk: '
    df -h . | tail -n 1
}
disk

# Missing tools make every later step meaningless: stop right away.
printf '==> system dependencies\n'
scripts/install-deps.sh || { echo "==> FAILED: installing system dependencies" >&2; exit 1; }

if command -v rustup >/dev/null 2>&1; then
    for comp in rustfmt clippy; do
        rustup component list --installed 2>/dev/null | grep -q "^$comp" \
            || rustup component add "$comp"
    done
fi

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy --all-targets -- -D warnings" cargo clippy --all-targets -- -D warnings
# Integration tests start real processes and servers; keep parallelism
# modest on small machines (override with GATEHOUSE_TEST_THREADS).
step "cargo test (unit and integration)" \
    cargo test --lib --bins --tests --no-fail-fast -- --test-threads="${GATEHOUSE_TEST_THREADS:-4}"
# Criterion benches run once each in test mode (they take no libtest arguments).
step "cargo test --benches (bench smoke run)" cargo test --benches --no-fail-fast

# Fuzzing (see ../shared/FUZZING.md): every cargo-fuzz target under fuzz/ runs for a
# bounded time, GATEHOUSE_FUZZ_SECONDS each (default 20; 0 skips the step). A crash,
# a hang (one input over 10 s) or an out-of-memory fails the step and leaves the input
# under fuzz/artifacts/TARGET/. The stable toolchain runs libFuzzer with RUSTC_BOOTSTRAP=1.
fuzz_targets() {
    local secs="${GATEHOUSE_FUZZ_SECONDS:-20}" rc=0 start=$SECONDS t t0 seeds
    if [ "$secs" = 0 ]; then
        echo "GATEHOUSE_FUZZ_SECONDS=0: skipping fuzzing"
        return 0
    fi
    if ! cargo fuzz --help >/dev/null 2>&1; then
        echo "installing cargo-fuzz"
        cargo install --locked cargo-fuzz || return 1
    fi
    RUSTC_BOOTSTRAP=1 cargo fuzz build || return 1
    echo "fuzz targets built in $((SECONDS - start)) s"
    for t in $(cargo fuzz list); do
        t0=$SECONDS
        mkdir -p "fuzz/corpus/$t"
        # Configuration targets start from the test configs (read, never written).
        seeds=()
        case "$t" in config_*) seeds=(tests/configs) ;; esac
        if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
            -max_total_time="$secs" -timeout=10 -print_final_stats=1 2>"fuzz/$t.log"; then
            tail -n 40 "fuzz/$t.log" >&2
            echo "fuzz target $t FAILED (input under fuzz/artifacts/$t/, log fuzz/$t.log)" >&2
            rc=1
        else
            grep -E '^stat::number_of_executed_units' "fuzz/$t.log" | sed "s/^/$t: /"
        fi
        echo "fuzz target $t: $((SECONDS - t0)) s"
    done
    echo "fuzzing took $((SECONDS - start)) s in total"
    return $rc
}
step "cargo fuzz (bounded run of each target)" fuzz_targets

disk
if [ "${#failed[@]}" -ne 0 ]; then
    printf '\n==> %d step(s) failed:\n' "${#failed[@]}" >&2
    printf '    - %s\n' "${failed[@]}" >&2
    exit 1
fi
printf '\n==> all checks passed\n'
