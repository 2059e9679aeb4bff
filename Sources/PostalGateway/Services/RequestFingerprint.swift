import Crypto
import GRPCCore
import SwiftProtobuf
import Tracking

/// What an idempotent request looked like: SHA-256 over the method, the caller and the request
/// (serialized deterministically, with its `request_id` cleared). A retry with the same id must
/// match it; anything else with that id is a different request.
enum RequestFingerprint {
  /// The key for a request.
  /// - Parameters:
  ///   - requestID: The validated request id.
  ///   - method: The RPC.
  ///   - caller: The caller's identity.
  ///   - message: The request with `request_id` cleared.
  static func key(
    _ requestID: RequestID,
    method: MethodDescriptor,
    caller: Actor,
    message: some SwiftProtobuf.Message
  ) throws -> IdempotencyKey {
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    let body: [UInt8] = try message.serializedBytes(options: options)
    var hasher = SHA256()
    for part in [Array(method.fullyQualifiedMethod.utf8), Array(caller.id.utf8), body] {
      var length = UInt64(part.count).bigEndian
      withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
      hasher.update(data: part)
    }
    return IdempotencyKey(
      requestID: requestID,
      caller: caller.id,
      fingerprint: Array(hasher.finalize())
    )
  }

  /// SHA-256 of some bytes.
  /// The idempotency key of a request: its id, and a fingerprint of the rest of it (with the id
  /// field cleared), of the method and of the caller.
  static func key<Request: SwiftProtobuf.Message>(
    _ requestID: RequestID,
    _ request: Request,
    clearing field: WritableKeyPath<Request, String>,
    context: ServerContext,
    caller: Actor
  ) throws -> IdempotencyKey {
    var body = request
    body[keyPath: field] = ""
    return try Self.key(requestID, method: context.descriptor, caller: caller, message: body)
  }

  static func digest(_ bytes: [UInt8]) -> [UInt8] {
    Array(SHA256.hash(data: bytes))
  }
}
