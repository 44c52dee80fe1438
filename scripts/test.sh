#!/usr/bin/env bash
# The one command that runs gatehouse's whole test suite on a fresh Debian 12
# machine with Rust: installs missing system tools (scripts/install-deps.sh),
# then runs formatting check, clippy and every test target (unit,
# integration, differential against haproxy). All steps run; the script
# exits non-zero if any of them failed.
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

printf '\n==> cargo fuzz\n'
if cargo fuzz --help >/dev/null 2>&1 && [ -d fuzz ]; then
    echo "cargo-fuzz is available; fuzz targets are run separately, not by this suite"
else
    echo "cargo-fuzz not installed or no fuzz/ directory: skipping fuzzing"
fi

if [ "${#failed[@]}" -ne 0 ]; then
    printf '\n==> %d step(s) failed:\n' "${#failed[@]}" >&2
    printf '    - %s\n' "${failed[@]}" >&2
    exit 1
fi
printf '\n==> all checks passed\n'
