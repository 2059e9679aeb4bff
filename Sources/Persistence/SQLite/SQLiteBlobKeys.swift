import Foundation
import GRDB

/// The scans' data keys in the database: `data_key` rows, and `scan_key` naming the one each
/// stored file is sealed under. Each call is its own short write.
struct SQLiteBlobKeys: BlobKeyring {
  let pool: DatabasePool
  let cipher: FieldCipher

  func newKey() throws -> DataKey {
    try self.pool.write { db in
      try self.cipher.newKey(in: db, now: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }
  }

  func key(_ id: Int64) throws -> DataKey? {
    try self.pool.read { db in try self.cipher.key(id, in: db) }
  }

  func bind(sha256: String, keyID: Int64) throws {
    try self.pool.write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO scan_key (sha256, data_key_id) VALUES (?, ?)",
        arguments: [sha256, keyID]
      )
    }
  }

  func discard(_ id: Int64) throws {
    try self.pool.write { db in
      try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [id])
    }
  }
}
