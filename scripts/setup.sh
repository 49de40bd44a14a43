#!/usr/bin/env bash
# Installs the Debian packages GenreKit builds against, when they are missing. Idempotent; quiet when all is there.
set -euo pipefail
PACKAGES=(pkg-config libsndfile1-dev libsamplerate0-dev libsoxr-dev libfftw3-dev libhdf5-dev hdf5-tools libopenblas-dev zlib1g-dev libxxhash-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# PyYAML, for scripts/partitioned.sh's check of the Kubernetes manifests (with the python3 on PATH).
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "setup: installing PyYAML"
  python3 -m pip install -q pyyaml 2>/dev/null || {
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-yaml
  }
  python3 -c 'import yaml' || { echo "setup: PyYAML could not be installed for $(command -v python3)" >&2; exit 1; }
fi
# onnx and onnxruntime, for the runtime checks of `genre export` (OnnxExportTests, smoke.sh, make bench-onnx), which
# skip with a message when they are absent: not fatal when pip cannot install them.
if ! python3 -c 'import onnx, onnxruntime' 2>/dev/null; then
  echo "setup: installing onnx and onnxruntime (pip)"
  python3 -m pip install -q onnx onnxruntime 2>/dev/null \
    || echo "setup: pip could not install onnx and onnxruntime; the ONNX runtime checks will be skipped" >&2
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH (GenreKit needs Swift 6; on this machine it lives in /opt/swift/usr/bin)" >&2
  exit 1
fi
