#!/usr/bin/env bash
# Regenerates Sources/Proto from proto/ with protoc and the two Swift plugins.
#
# The plugins are built in release from the mirrored swift-protobuf and grpc-swift-protobuf
# packages (scripts/protoc-plugins). protoc comes from Debian's protobuf-compiler; the well-known
# types (google/protobuf/timestamp.proto) from libprotobuf-dev.
#
# Usage: scripts/generate-proto.sh           regenerate
#        scripts/generate-proto.sh --check   regenerate into a temporary folder and fail if it
#                                            differs from what is committed
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugins="$root/scripts/protoc-plugins"
out="$root/Sources/Proto"
check=false
[[ "${1:-}" == "--check" ]] && check=true

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler libprotobuf-dev" >&2; exit 1; }
wkt_include=/usr/include
[[ -f "$wkt_include/google/protobuf/timestamp.proto" ]] || { echo "google/protobuf/timestamp.proto not found: apt-get install libprotobuf-dev" >&2; exit 1; }

swift build -c release --package-path "$plugins" --product protoc-gen-swift >&2
swift build -c release --package-path "$plugins" --product protoc-gen-grpc-swift-2 >&2
bin="$(swift build -c release --package-path "$plugins" --show-bin-path)"

target="$out"
if $check; then
  target="$(mktemp -d)"
  trap 'rm -rf "$target"' EXIT
else
  find "$out" -name '*.swift' -delete
fi

cd "$root/proto"
protos=$(find . -name '*.proto' | sed 's|^\./||' | sort)

protoc \
  --proto_path=. --proto_path="$wkt_include" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --swift_out="$target" \
  --swift_opt=Visibility=Package \
  --swift_opt=FileNaming=PathToUnderscores \
  --swift_opt=UseAccessLevelOnImports=true \
  $protos

protoc \
  --proto_path=. --proto_path="$wkt_include" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --grpc-swift-2_out="$target" \
  --grpc-swift-2_opt=Visibility=Package \
  --grpc-swift-2_opt=FileNaming=PathToUnderscores \
  --grpc-swift-2_opt=UseAccessLevelOnImports=true \
  --grpc-swift-2_opt=Server=true \
  --grpc-swift-2_opt=Client=true \
  $protos

if $check; then
  if ! diff -r "$out" "$target" >&2; then
    echo "Sources/Proto is out of date: run scripts/generate-proto.sh" >&2
    exit 1
  fi
  echo "Sources/Proto matches proto/"
else
  echo "generated into Sources/Proto:"; ls "$out"
fi
