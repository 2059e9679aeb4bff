public import Logging
public import Persistence
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

  /// Connects, migrates (safe when replicas start together) and opens every store.
  /// - Parameters:
  ///   - location: The database.
  ///   - keys: The key-encryption keys personal data is sealed under (the same on every
  ///     replica).
  ///   - spool: A local folder for scan uploads in progress.
  ///   - maximumConnections: This replica's pool size.
  ///   - migrate: Whether to bring the schema up to date (otherwise it must already be).
  /// - Throws: ``PostgresStorageError`` when the database is unreachable, refuses the login,
  ///   or was migrated by a newer version.
  public static func open(
    _ location: PostgresLocation,
    keys: any KeyEncryptionKeys,
    spool: String,
    maximumConnections: Int = 16,
    migrate: Bool = true,
    logger: Logger = Logger(label: "postal-gateway.postgres")
  ) async throws -> Opened {
    let pool = try await PostgresPool.open(
      location,
      maximumConnections: maximumConnections,
      logger: logger
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
      let feed = ChangeFeed()
      let stores = Stores(
        shipments: PostgresShipmentStore(pool: pool, keys: keys, feed: feed),
        custody: PostgresCustodyStore(pool: pool),
        handoffs: PostgresHandoffStore(pool: pool, feed: feed),
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
        health: StoreHealth()
      )
      return Opened(
        stores: stores,
        pool: pool,
        listener: PostgresChangeListener(pool: pool, feed: feed)
      )
    } catch {
      pool.close()
      throw error
    }
  }
}
