#!/usr/bin/env bash
# Regenerates Sources/OnnxExport/Generated/onnx.pb.swift from ONNX's published onnx.proto. Run by hand when the ONNX
# version changes, never by the build: the generated file is committed. Needs protoc (3.21 was used), the
# swift-protobuf plugin protoc-gen-swift of the same version as the package dependency (1.39.0), and the onnx pip
# package (1.23.2 was used), which carries onnx.proto.
#
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift scripts/generate_onnx_swift.sh
#
# Internal visibility: no protobuf type is part of OnnxExport's public API.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || echo /work/protogen/.build/release/protoc-gen-swift)}
out=Sources/OnnxExport/Generated
python=${PYTHON:-python3}
proto=$("$python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')
version=$("$python" -c 'import onnx; print(onnx.__version__)')
mkdir -p "$out"
# The copy keeps ONNX's licence header (SPDX Apache-2.0); the first line says where it came from.
{ echo "// Copied unchanged below this line from the onnx $version pip package (onnx/onnx.proto) by scripts/generate_onnx_swift.sh."
  cat "$proto"; } >"$out/onnx.proto"
protoc --plugin=protoc-gen-swift="$plugin" -I "$out" --swift_out="$out" --swift_opt=Visibility=Internal "$out/onnx.proto"
echo "generated $out/onnx.pb.swift from onnx $version with $(protoc --version) and $("$plugin" --version)"
