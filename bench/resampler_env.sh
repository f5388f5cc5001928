#!/usr/bin/env bash
# Run bench/review_resampler.py in its own venv: plotly-resampler 0.11.x declares plotly<7,
# so it cannot share the project's .venv (plotly 7).
#
#   bash bench/resampler_env.sh DATA.npz
#
# The venv lives at ${RESAMPLER_VENV:-/tmp/resampler-venv} and is made with python3 from PATH.
set -euo pipefail

RESAMPLER_VERSION=0.11.1
VENV="${RESAMPLER_VENV:-/tmp/resampler-venv}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "resampler_env: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: bash bench/resampler_env.sh DATA.npz"
[ -f "$1" ] || die "no such file: $1"
command -v python3 >/dev/null || die "python3 not found on PATH"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || die "could not create venv at $VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys
sys.exit(m.version('plotly-resampler') != '$RESAMPLER_VERSION')" 2>/dev/null; then
    "$VENV/bin/python" -m pip install "plotly-resampler==$RESAMPLER_VERSION" >"$VENV/pip.log" 2>&1 \
        || die "pip install plotly-resampler==$RESAMPLER_VERSION failed, see $VENV/pip.log"
fi

"$VENV/bin/python" "$HERE/review_resampler.py" "$1" || die "review_resampler.py failed"
