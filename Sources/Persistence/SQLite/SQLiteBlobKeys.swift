import Foundation
import GRDB

/// The scans' data keys in the database: `data_key` rows, and `scan_key` naming the one each
/// stored file is sealed under. Each call is its own short write through the shared write path
/// (never a blocking call on a task's thread).
struct SQLiteBlobKeys: BlobKeyring {
  let database: SQLiteDatabase
  let cipher: FieldCipher

  func newKey() async throws -> DataKey {
    try await self.database.write { db in
      try self.cipher.newKey(in: db, now: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }
  }

  func key(_ id: Int64) async throws -> DataKey? {
    try await self.database.read { db in try self.cipher.key(id, in: db) }
  }

  func bind(sha256: String, keyID: Int64) async throws {
    try await self.database.write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO scan_key (sha256, data_key_id) VALUES (?, ?)",
        arguments: [sha256, keyID]
      )
    }
  }

  func rebind(sha256: String, from old: Int64, to new: Int64) async throws -> Bool {
    try await self.database.write { db in
      try db.execute(
        sql: "UPDATE scan_key SET data_key_id = ? WHERE sha256 = ? AND data_key_id = ?",
        arguments: [new, sha256, old]
      )
      guard db.changesCount == 1 else { return false }
      try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [old])
      return true
    }
  }

  /// Scans sealed under data keys created before `cutoff` (microseconds), with their key.
  func sealed(before cutoff: Int64, limit: Int) async throws -> [(sha256: String, keyID: Int64)] {
    try await self.database.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT scan_key.sha256, scan_key.data_key_id FROM scan_key
          JOIN data_key ON data_key.id = scan_key.data_key_id
          WHERE data_key.created_at < ? LIMIT ?
          """,
        arguments: [cutoff, limit]
      ).map { ($0["sha256"], $0["data_key_id"]) }
    }
  }

  func discard(_ id: Int64) async throws {
    try await self.database.write { db in
      try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [id])
    }
  }
}
