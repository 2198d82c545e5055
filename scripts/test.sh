#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what the README tells newcomers to run.
# Installs what the tests need (idempotently), then checks formatting, lints, and runs every
# test, doctest and example build of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain components the checks use.
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (unit, integration, compile-fail, doc tests)"
cargo test --workspace --locked

echo "== all tests passed"
