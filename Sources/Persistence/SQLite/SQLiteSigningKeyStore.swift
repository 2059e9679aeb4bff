import Foundation
import GRDB
public import Tracking

/// The ``SigningKeyStore`` on SQLite: the handover keys of staff devices and agency systems.
public final class SQLiteSigningKeyStore: SigningKeyStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  public func register(_ key: SigningKey, now: Timestamp) async throws {
    try await self.database.write { db in
      if let owner = try String.fetchOne(
        db.cachedStatement(sql: "SELECT owner FROM signing_key WHERE key_id = ?"),
        arguments: [key.keyID]
      ) {
        guard owner == key.owner else {
          throw TrackingError(
            code: .requestIDReused,
            message: "this public key is registered to another identity"
          )
        }
        return
      }
      try db.cachedStatement(
        sql:
          "INSERT INTO signing_key (key_id, owner, public_key, registered_at) VALUES (?, ?, ?, ?)"
      ).execute(
        arguments: [key.keyID, key.owner, Data(key.publicKey), now.microseconds]
      )
    }
  }

  public func signingKey(_ keyID: String) async throws -> SigningKey? {
    try await self.database.read { db in
      guard
        let row = try Row.fetchOne(
          db.cachedStatement(sql: "SELECT owner, public_key FROM signing_key WHERE key_id = ?"),
          arguments: [keyID]
        )
      else { return nil }
      let publicKey: Data = row["public_key"]
      return try SigningKey(owner: row["owner"], publicKey: Array(publicKey))
    }
  }

  public func signingKeys(of owner: String) async throws -> [SigningKey] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: "SELECT public_key FROM signing_key WHERE owner = ? ORDER BY registered_at"
        ),
        arguments: [owner]
      ).map { row in
        let publicKey: Data = row["public_key"]
        return try SigningKey(owner: owner, publicKey: Array(publicKey))
      }
    }
  }
}
