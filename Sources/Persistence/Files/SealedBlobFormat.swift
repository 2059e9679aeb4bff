import Crypto
import Foundation
import Tracking

/// Where a file store keeps its files' data keys (the database: `data_key` and `scan_key`).
protocol BlobKeyring: Sendable {
  /// A new data key for an upload.
  func newKey() async throws -> DataKey
  /// The data key with this id; `nil` once destroyed.
  func key(_ id: Int64) async throws -> DataKey?
  /// Records that the stored file with this digest is sealed under the key.
  func bind(sha256: String, keyID: Int64) async throws
  /// Destroys a key no file uses (an aborted or duplicate upload).
  func discard(_ id: Int64) async throws
  /// Moves the file with this digest from one key to another (a data-key rotation); `false`
  /// when it is no longer bound to `old` (erased meanwhile).
  func rebind(sha256: String, from old: Int64, to new: Int64) async throws -> Bool
}

/// A sealed scan: `PGS1` ‖ data key id (8 bytes, big-endian), then frames of up to 64 KiB of
/// content: final flag (1 byte) ‖ length (4 bytes) ‖ AES-GCM nonce, ciphertext and tag. Each
/// frame is authenticated with its index, its flag and the key id, so frames cannot be
/// reordered, dropped or cut off after the last without the read failing.
enum SealedBlobFormat {
  static let magic = Data("PGS1".utf8)
  static let headerSize = 12
  static let frameSize = 64 * 1024

  static func header(keyID: Int64) -> Data {
    var data = Self.magic
    withUnsafeBytes(of: keyID.bigEndian) { data.append(contentsOf: $0) }
    return data
  }

  /// The key id of a sealed file's first bytes; `nil` for a file written before sealing.
  static func keyID(ofHeader head: Data) -> Int64? {
    guard head.count == Self.headerSize, head.prefix(4) == Self.magic else { return nil }
    var id: Int64 = 0
    for byte in head.dropFirst(4) { id = id << 8 | Int64(byte) }
    return id
  }

  static func additionalData(index: Int, final: Bool, keyID: Int64) -> Data {
    Data("scan frame \(index) \(final ? 1 : 0) \(keyID)".utf8)
  }

  /// Seals content into frames as it arrives.
  struct Writer {
    let key: DataKey
    private var buffer = Data()
    private var index = 0

    init(key: DataKey) { self.key = key }

    /// The full frames the new bytes complete (the last frame is held until ``finish()``).
    mutating func append(_ data: Data) throws -> [Data] {
      self.buffer.append(data)
      var frames: [Data] = []
      while self.buffer.count > SealedBlobFormat.frameSize {
        frames.append(try self.frame(self.buffer.prefix(SealedBlobFormat.frameSize), final: false))
        self.buffer = Data(self.buffer.dropFirst(SealedBlobFormat.frameSize))
      }
      return frames
    }

    /// The last frame.
    mutating func finish() throws -> Data {
      let last = try self.frame(self.buffer, final: true)
      self.buffer = Data()
      return last
    }

    private mutating func frame(_ content: Data, final: Bool) throws -> Data {
      let sealed = try AES.GCM.seal(
        content,
        using: self.key.key,
        authenticating: SealedBlobFormat.additionalData(
          index: self.index,
          final: final,
          keyID: self.key.id
        )
      )
      self.index += 1
      guard let combined = sealed.combined else { throw BlobError.io("sealing failed") }
      var frame = Data([final ? 1 : 0])
      withUnsafeBytes(of: UInt32(combined.count).bigEndian) { frame.append(contentsOf: $0) }
      frame.append(combined)
      return frame
    }
  }

  /// Opens the frames of a sealed file, after its header.
  struct Reader {
    let key: DataKey
    private var index = 0
    private var ended = false

    init(key: DataKey) { self.key = key }

    /// The next frame's content; `nil` after the final frame.
    mutating func next(from handle: FileHandle) throws -> Data? {
      guard let prefix = try handle.read(upToCount: 5), prefix.count == 5 else {
        if self.ended { return nil }
        throw BlobError.corrupted  // cut off before the final frame
      }
      guard !self.ended else { throw BlobError.corrupted }  // bytes after the final frame
      let final = prefix.first == 1
      var length = 0
      for byte in prefix.dropFirst() { length = length << 8 | Int(byte) }
      guard length <= SealedBlobFormat.frameSize + 28,
        let sealed = try handle.read(upToCount: length), sealed.count == length
      else { throw BlobError.corrupted }
      do {
        let content = try AES.GCM.open(
          try AES.GCM.SealedBox(combined: sealed),
          using: self.key.key,
          authenticating: SealedBlobFormat.additionalData(
            index: self.index,
            final: final,
            keyID: self.key.id
          )
        )
        self.index += 1
        self.ended = final
        return content
      } catch {
        throw BlobError.corrupted
      }
    }
  }
}
