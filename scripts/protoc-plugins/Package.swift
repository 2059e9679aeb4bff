// swift-tools-version:6.1
// Builds the two protoc plugins that generate Sources/Proto, from the same package versions the
// service depends on. Used only by scripts/generate-proto.sh; not part of the service build.
import PackageDescription

let package = Package(
  name: "protoc-plugins",
  dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
  ]
)
