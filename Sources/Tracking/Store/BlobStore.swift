/// Where scanned documents live, content-addressed by SHA-256. Handlers and commands use this
/// protocol only; the file store is one implementation, and a database or object store can be
/// another.
public protocol BlobStore: Sendable {
  /// Starts an upload.
  /// - Throws: ``BlobError/io(_:)`` when the store cannot take one.
  func beginUpload() async throws -> any BlobUpload

  /// Reads a stored blob in chunks, checking its digest as it goes.
  /// - Parameters:
  ///   - sha256: 64 lower-case hex digits.
  ///   - chunkSize: Bytes per chunk.
  ///   - body: Called with each chunk.
  /// - Throws: ``BlobError/notFound``, ``BlobError/corrupted`` when the bytes no longer match.
  func read(
    sha256: String,
    chunkSize: Int,
    _ body: ([UInt8]) async throws -> Void
  ) async throws

  /// Whether a blob with this digest is stored.
  func contains(sha256: String) async throws -> Bool

  /// Removes a blob whose personal data was erased (its key is already destroyed). Nothing
  /// when absent.
  func remove(sha256: String) async
}

extension BlobStore {
  /// Reads a stored blob in chunks of 64 KiB, checking its digest as it goes.
  public func read(sha256: String, _ body: ([UInt8]) async throws -> Void) async throws {
    try await self.read(sha256: sha256, chunkSize: 64 * 1024, body)
  }
}

/// One upload in progress, owned by one task.
public protocol BlobUpload: AnyObject {
  /// Bytes written so far.
  var size: Int64 { get }
  /// The first bytes (up to 16), for the content-type check.
  var head: [UInt8] { get }
  /// Appends bytes.
  func write(_ bytes: some Sequence<UInt8>) throws
  /// The digest of everything written (lower-case hex); the bytes are durable.
  func finish() throws -> String
  /// Makes the finished upload readable under its digest; `false` when it was already stored.
  func commit(sha256: String) async throws -> Bool
  /// Discards the upload.
  func abort() async
}

/// Why a stored blob cannot be used.
public enum BlobError: Error, Hashable, Sendable {
  /// No blob with that digest.
  case notFound
  /// The bytes no longer match the digest.
  case corrupted
  /// The storage refused.
  case io(String)
}

/// Lower-case hex of some bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
  let digits = Array("0123456789abcdef")
  var text = ""
  for byte in bytes {
    text.append(digits[Int(byte >> 4)])
    text.append(digits[Int(byte & 0x0F)])
  }
  return text
}
