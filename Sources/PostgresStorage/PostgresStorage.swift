import Foundation
public import Logging
public import Persistence
import PostgresNIO
public import Tracking

/// The scale-out backend: every store on one PostgreSQL database shared by replicas, with the
/// notifier fed by `LISTEN`/`NOTIFY` (the counterpart of `SQLiteStorage`).
public enum PostgresStorage {
  /// A replica's stores and what runs beside them.
  public struct Opened: Sendable {
    /// Every store, on the database.
    public var stores: Stores
    /// The pool they share.
    public var pool: PostgresPool
    /// Publishes other replicas' commits on ``stores``' feed; run it for as long as the
    /// stores serve.
    public var listener: PostgresChangeListener
  }

  /// Connects and brings the schema up to date (safe when replicas start together), or only
  /// checks it.
  /// - Parameter migrate: Whether to migrate; otherwise the schema must be this build's.
  /// - Throws: ``PostgresStorageError`` when the database is unreachable, refuses the login,
  ///   was migrated by a newer version, or (without `migrate`) is behind.
  public static func connect(
    _ location: PostgresLocation,
    maximumConnections: Int = 16,
    migrate: Bool = true,
    logger: Logger = Logger(label: "postal-gateway.postgres"),
    observer: (any CommitObserver)? = nil
  ) async throws -> PostgresPool {
    let pool = try await PostgresPool.open(
      location,
      maximumConnections: maximumConnections,
      logger: logger,
      observer: observer
    )
    do {
      if migrate {
        try await PostgresSchema.migrate(pool)
      } else {
        try await PostgresSchema.check(pool)
        let found = try await PostgresSchema.version(of: pool)
        guard found == PostgresSchema.latest else {
          throw PostgresStorageError.configuration(
            "the database is at schema version \(found), this build needs \(PostgresSchema.latest): run `postal-gateway db migrate`"
          )
        }
      }
      return pool
    } catch {
      pool.close()
      throw error
    }
  }

  /// Whether the database holds data keys (then the key file that wraps them must exist).
  public static func holdsDataKeys(_ pool: PostgresPool) async throws -> Bool {
    try await pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT EXISTS (SELECT 1 FROM data_key)",
        logger: pool.logger
      )
      for try await exists in rows.decode(Bool.self) { return exists }
      return false
    }
  }

  /// Opens every store on a connected, migrated database, after checking that `keys` unwrap
  /// the data keys already stored (one per key-encryption key).
  /// - Parameters:
  ///   - keys: The key-encryption keys personal data is sealed under (the same on every
  ///     replica).
  ///   - spool: A local folder for scan uploads in progress.
  ///   - handoffLease: How long a replica's claim on a due handoff keeps the others away.
  /// - Throws: ``TrackingError`` `.storageFailure` when `keys` lack a key the data needs.
  public static func open(
    pool: PostgresPool,
    keys: any KeyEncryptionKeys,
    spool: String,
    handoffLease: Duration = .seconds(120)
  ) async throws -> Opened {
    try await Self.checkKeys(keys, pool: pool)
    let feed = ChangeFeed()
    let stores = Stores(
      shipments: PostgresShipmentStore(pool: pool, keys: keys, feed: feed),
      custody: PostgresCustodyStore(pool: pool),
      handoffs: PostgresHandoffStore(pool: pool, feed: feed, lease: handoffLease),
      sla: PostgresSlaStore(pool: pool, feed: feed),
      signingKeys: PostgresSigningKeyStore(pool: pool),
      offline: PostgresOfflineSyncStore(pool: pool, keys: keys),
      blobs: try PostgresBlobStore(pool: pool, keys: keys, spool: spool),
      accessAudit: PostgresAccessAuditStore(pool: pool),
      ratings: PostgresRatingStore(pool: pool, keys: keys),
      indicators: PostgresIndicatorStore(pool: pool),
      queueTickets: PostgresQueueTicketStore(pool: pool),
      notifications: PostgresNotificationStore(pool: pool, feed: feed),
      feed: feed,
      health: pool.health
    )
    return Opened(
      stores: stores,
      pool: pool,
      listener: PostgresChangeListener(pool: pool, feed: feed)
    )
  }

  /// Connects, migrates and opens every store (``connect(_:maximumConnections:migrate:logger:)``
  /// then ``open(pool:keys:spool:)``).
  public static func open(
    _ location: PostgresLocation,
    keys: any KeyEncryptionKeys,
    spool: String,
    maximumConnections: Int = 16,
    logger: Logger = Logger(label: "postal-gateway.postgres")
  ) async throws -> Opened {
    let pool = try await Self.connect(
      location,
      maximumConnections: maximumConnections,
      logger: logger
    )
    do {
      return try await Self.open(pool: pool, keys: keys, spool: spool)
    } catch {
      pool.close()
      throw error
    }
  }

  private static func checkKeys(_ keys: any KeyEncryptionKeys, pool: PostgresPool) async throws {
    let stored = try await pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT DISTINCT ON (kek_id) kek_id, wrapped FROM data_key ORDER BY kek_id, id",
        logger: pool.logger
      )
      var stored: [WrappedDataKey] = []
      for try await (id, wrapped) in rows.decode((String, Data).self) {
        stored.append(WrappedDataKey(keyID: id, bytes: wrapped))
      }
      return stored
    }
    for wrapped in stored {
      do {
        _ = try keys.unwrap(wrapped)
      } catch {
        throw TrackingError(
          code: .storageFailure,
          message:
            "the database \(pool.location.redacted) cannot be read with these keys: \(error)"
        )
      }
    }
  }
}
