import Crypto
import Foundation
import GRDB
import Tracking

/// A data key and its row in `data_key`.
struct DataKey: Sendable {
  let id: Int64
  let key: SymmetricKey
}

/// Seals personal values under data keys kept in `data_key`, each wrapped by a key-encryption
/// key (``KeyEncryptionKeys``). A sealed value is `0x01 ‖ data key id (8 bytes, big-endian) ‖
/// AES-GCM nonce, ciphertext and tag`, authenticated with the record it belongs to (its
/// `context`), so it cannot be moved to another record. Destroying the data key's row erases
/// every value sealed under it (crypto-shredding).
struct FieldCipher: Sendable {
  let keys: any KeyEncryptionKeys

  /// Creates a data key and stores it wrapped.
  func newKey(in db: Database, now: Int64) throws -> DataKey {
    let key = SymmetricKey(size: .bits256)
    let wrapped = try self.keys.wrap(key)
    try db.cachedStatement(
      sql: "INSERT INTO data_key (kek_id, wrapped, created_at) VALUES (?, ?, ?)"
    ).execute(arguments: [wrapped.keyID, wrapped.bytes, now])
    return DataKey(id: db.lastInsertedRowID, key: key)
  }

  /// The data key with this id; `nil` when it was destroyed (the values sealed under it are
  /// erased).
  func key(_ id: Int64, in db: Database) throws -> DataKey? {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(sql: "SELECT kek_id, wrapped FROM data_key WHERE id = ?"),
        arguments: [id]
      )
    else { return nil }
    let key = try self.keys.unwrap(WrappedDataKey(keyID: row["kek_id"], bytes: row["wrapped"]))
    return DataKey(id: id, key: key)
  }

  /// Seals a value.
  func seal(_ plaintext: Data, with key: DataKey, context: String) throws -> Data {
    let sealed = try AES.GCM.seal(
      plaintext,
      using: key.key,
      authenticating: Self.additionalData(context: context, keyID: key.id)
    )
    guard let combined = sealed.combined else { throw EncryptionError.corrupted(context) }
    var out = Data([Self.version])
    withUnsafeBytes(of: key.id.bigEndian) { out.append(contentsOf: $0) }
    out.append(combined)
    return out
  }

  /// Opens a value sealed under `key`.
  func open(_ sealed: Data, with key: DataKey, context: String) throws -> Data {
    guard Self.keyID(of: sealed) == key.id else { throw EncryptionError.corrupted(context) }
    do {
      let box = try AES.GCM.SealedBox(combined: sealed.dropFirst(9))
      return try AES.GCM.open(
        box,
        using: key.key,
        authenticating: Self.additionalData(context: context, keyID: key.id)
      )
    } catch {
      throw EncryptionError.corrupted(context)
    }
  }

  /// Opens a value, finding its data key; `nil` when the key was destroyed.
  func open(_ sealed: Data, context: String, in db: Database) throws -> Data? {
    guard let id = Self.keyID(of: sealed) else { throw EncryptionError.corrupted(context) }
    guard let key = try self.key(id, in: db) else { return nil }
    return try self.open(sealed, with: key, context: context)
  }

  /// The data key id a sealed value records.
  static func keyID(of sealed: Data) -> Int64? {
    guard sealed.count > 9, sealed.first == Self.version else { return nil }
    var id: Int64 = 0
    for byte in sealed.dropFirst().prefix(8) { id = id << 8 | Int64(byte) }
    return id
  }

  private static let version: UInt8 = 1

  private static func additionalData(context: String, keyID: Int64) -> Data {
    Data("postalgateway sealed v1 \(context) \(keyID)".utf8)
  }
}

extension FieldCipher {
  /// Data keys wrapped under other key-encryption keys than the active one, rewrapped under
  /// it, at most `limit` per call (each call one short transaction, so writers keep going).
  /// - Returns: How many were rewrapped.
  func rewrap(limit: Int, in db: Database) throws -> Int {
    let rows = try Row.fetchAll(
      db.cachedStatement(sql: "SELECT id, kek_id, wrapped FROM data_key WHERE kek_id <> ? LIMIT ?"),
      arguments: [self.keys.activeKeyID, limit]
    )
    for row in rows {
      let key = try self.keys.unwrap(WrappedDataKey(keyID: row["kek_id"], bytes: row["wrapped"]))
      let wrapped = try self.keys.wrap(key)
      try db.cachedStatement(sql: "UPDATE data_key SET kek_id = ?, wrapped = ? WHERE id = ?")
        .execute(arguments: [wrapped.keyID, wrapped.bytes, row["id"] as Int64])
    }
    return rows.count
  }

  /// How many data keys each key-encryption key wraps.
  static func census(in db: Database) throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for row in try Row.fetchAll(
      db,
      sql: "SELECT kek_id, count(*) AS n FROM data_key GROUP BY kek_id"
    ) {
      counts[row["kek_id"]] = row["n"]
    }
    return counts
  }

  /// Checks at start-up that every key-encryption key the data keys need is held and is the
  /// right one (one data key per key-encryption key is unwrapped).
  func checkKeys(in db: Database) throws {
    let rows = try Row.fetchAll(
      db,
      sql:
        "SELECT kek_id, wrapped FROM data_key WHERE id IN (SELECT min(id) FROM data_key GROUP BY kek_id)"
    )
    for row in rows {
      _ = try self.keys.unwrap(WrappedDataKey(keyID: row["kek_id"], bytes: row["wrapped"]))
    }
  }
}
