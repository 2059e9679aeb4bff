import GRDB

/// The rewrapping of data keys after a new key-encryption key became active: short batches
/// through the same write path as everything else, so it runs while the service serves, and
/// resumes where it stopped after a crash (a data key names the key it is wrapped under).
public struct KeyRotation: Sendable {
  let database: SQLiteDatabase
  let cipher: FieldCipher
  /// The scans, sealed again by a data-key rotation.
  let blobs: FileBlobStore?

  /// How many data keys each key-encryption key wraps.
  public func census() async throws -> [String: Int] {
    try await self.database.read { db in try FieldCipher.census(in: db) }
  }

  /// Rewraps up to `limit` data keys under the active key.
  /// - Returns: How many were rewrapped (0: none is left under another key).
  public func rewrapBatch(limit: Int = 500) async throws -> Int {
    try await self.database.write { db in try self.cipher.rewrap(limit: limit, in: db) }
  }
}
