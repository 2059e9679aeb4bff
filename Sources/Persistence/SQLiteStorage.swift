import Foundation
import GRDB
public import Tracking

/// The embedded backend: every store on one SQLite file, scans in a folder beside it.
public enum SQLiteStorage {
  /// Opens (creating and migrating if needed) the database and the scans folder.
  /// - Parameters:
  ///   - path: The SQLite file.
  ///   - blobDirectory: The scans folder.
  ///   - feed: Where commits are published (a new one by default).
  ///   - busyTimeout: How long a write waits for a lock held by another process.
  ///   - groupCommit: How concurrent writes share a transaction.
  ///   - observer: Told the duration of every write transaction (metrics), if given.
  ///   - keys: The key-encryption keys personal data is sealed under (kept outside the data
  ///     directory).
  /// - Throws: ``TrackingError`` naming the file when it cannot be opened or was migrated by a
  ///   newer version, or when `keys` lacks a key the data needs or holds a wrong one.
  public static func open(
    path: String,
    blobDirectory: String,
    keys: any KeyEncryptionKeys,
    feed: ChangeFeed = ChangeFeed(),
    busyTimeout: Duration = .seconds(10),
    groupCommit: GroupCommitSettings = GroupCommitSettings(),
    observer: (any CommitObserver)? = nil
  ) throws -> Stores {
    let health = StoreHealth()
    let database = try SQLiteDatabase(
      path: path,
      feed: feed,
      health: health,
      busyTimeout: busyTimeout,
      groupCommit: groupCommit,
      observer: observer
    )
    let cipher = FieldCipher(keys: keys)
    do {
      try database.pool.read { db in try cipher.checkKeys(in: db) }
      _ = try PlaintextSealing.sealPending(cipher: cipher, in: database.pool)
    } catch let error as EncryptionError {
      throw TrackingError(
        code: .storageFailure,
        message: "the database \(path) cannot be read with these keys: \(error)"
      )
    }
    let blobs: FileBlobStore
    do {
      blobs = try FileBlobStore(
        root: blobDirectory,
        keyring: SQLiteBlobKeys(database: database, cipher: cipher)
      )
    } catch {
      throw TrackingError(
        code: .storageFailure,
        message: "the scans folder \(blobDirectory) cannot be used",
        underlying: String(describing: error)
      )
    }
    return Stores(
      shipments: SQLiteShipmentStore(database: database, cipher: cipher),
      custody: SQLiteCustodyStore(database: database),
      handoffs: SQLiteHandoffStore(database: database),
      sla: SQLiteSlaStore(database: database),
      signingKeys: SQLiteSigningKeyStore(database: database),
      offline: SQLiteOfflineSyncStore(database: database, cipher: cipher),
      blobs: blobs,
      accessAudit: SQLiteAccessAuditStore(database: database),
      ratings: SQLiteRatingStore(database: database, cipher: cipher),
      indicators: SQLiteIndicatorStore(database: database),
      queueTickets: SQLiteQueueTicketStore(database: database),
      notifications: SQLiteNotificationStore(database: database),
      feed: feed,
      health: health
    )
  }

  /// The key-encryption keys' census: how many data keys each wraps, and the rewrapping of
  /// those under another key than the active one.
  public static func keyRotation(of stores: Stores) -> KeyRotation? {
    (stores.shipments as? SQLiteShipmentStore).map {
      KeyRotation(database: $0.database, cipher: $0.cipher, blobs: stores.blobs as? FileBlobStore)
    }
  }

  /// Whether the database at `path` holds data keys (then the key file that wraps them must
  /// exist; otherwise a new one may be made).
  public static func holdsDataKeys(path: String) throws -> Bool {
    guard FileManager.default.fileExists(atPath: path) else { return false }
    let database = try SQLiteDatabase(path: path, feed: ChangeFeed(), health: StoreHealth())
    return try database.pool.read { db in
      try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM data_key LIMIT 1)") ?? 0
    } > 0
  }

  /// The custody log of a database alone (for `log fsck` and tools that only read the log).
  public static func openCustodyLog(path: String) throws -> any CustodyLogStore {
    SQLiteCustodyStore(
      database: try SQLiteDatabase(path: path, feed: ChangeFeed(), health: StoreHealth())
    )
  }

  /// The writer's `synchronous` setting (2 = FULL) and the journal mode (`wal`), for checks.
  public static func durability(path: String) throws -> (synchronous: Int, journalMode: String) {
    let database = try SQLiteDatabase(path: path, feed: ChangeFeed(), health: StoreHealth())
    let synchronous = try database.pool.writeWithoutTransaction { db in
      try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
    }
    let mode = try database.pool.read { db in
      try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
    }
    return (synchronous, mode)
  }
}
