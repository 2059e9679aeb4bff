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
  /// - Throws: ``TrackingError`` naming the file when it cannot be opened or was migrated by a
  ///   newer version.
  public static func open(
    path: String,
    blobDirectory: String,
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
    let blobs: FileBlobStore
    do {
      blobs = try FileBlobStore(root: blobDirectory)
    } catch {
      throw TrackingError(
        code: .storageFailure,
        message: "the scans folder \(blobDirectory) cannot be used",
        underlying: String(describing: error)
      )
    }
    return Stores(
      shipments: SQLiteShipmentStore(database: database),
      custody: SQLiteCustodyStore(database: database),
      handoffs: SQLiteHandoffStore(database: database),
      sla: SQLiteSlaStore(database: database),
      signingKeys: SQLiteSigningKeyStore(database: database),
      offline: SQLiteOfflineSyncStore(database: database),
      blobs: blobs,
      accessAudit: SQLiteAccessAuditStore(database: database),
      ratings: SQLiteRatingStore(database: database),
      indicators: SQLiteIndicatorStore(database: database),
      feed: feed,
      health: health
    )
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
