import Foundation
import PostgresNIO
public import Tracking

/// The ``SigningKeyStore`` on PostgreSQL: the handover keys of staff devices and agency
/// systems, shared by every replica. A key belongs to the first identity that registers it:
/// the primary key decides between replicas registering at once, not a process's memory.
public struct PostgresSigningKeyStore: SigningKeyStore {
  let pool: PostgresPool

  /// A store on a migrated database.
  public init(pool: PostgresPool) {
    self.pool = pool
  }

  public func register(_ key: SigningKey, now: Timestamp) async throws {
    try await self.pool.transaction { connection in
      try await connection.query(
        """
        INSERT INTO signing_key (key_id, owner, public_key, registered_at)
        VALUES (\(key.keyID), \(key.owner), \(Data(key.publicKey)), \(now.microseconds))
        ON CONFLICT (key_id) DO NOTHING
        """,
        logger: self.pool.logger
      )
      let rows = try await connection.query(
        "SELECT owner FROM signing_key WHERE key_id = \(key.keyID)",
        logger: self.pool.logger
      )
      for try await owner in rows.decode(String.self) where owner != key.owner {
        throw TrackingError(
          code: .requestIDReused,
          message: "this public key is registered to another identity"
        )
      }
    }
  }

  public func signingKey(_ keyID: String) async throws -> SigningKey? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT owner, public_key FROM signing_key WHERE key_id = \(keyID)",
        logger: self.pool.logger
      )
      for try await (owner, publicKey) in rows.decode((String, Data).self) {
        return try SigningKey(owner: owner, publicKey: Array(publicKey))
      }
      return nil
    }
  }

  public func signingKeys(of owner: String) async throws -> [SigningKey] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT public_key FROM signing_key WHERE owner = \(owner) ORDER BY registered_at, key_id",
        logger: self.pool.logger
      )
      var keys: [SigningKey] = []
      for try await publicKey in rows.decode(Data.self) {
        keys.append(try SigningKey(owner: owner, publicKey: Array(publicKey)))
      }
      return keys
    }
  }
}
