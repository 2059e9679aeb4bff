import Foundation
import Logging
import Persistence
import PostgresStorage
import ServiceLifecycle
import Tracking

/// The stores a gateway serves from, chosen by the configuration: SQLite in the data directory
/// (the embedded default), or the PostgreSQL database replicas share (`database:`), with what
/// that needs beside the stores — the listener that brings other replicas' commits, and the
/// lease that elects one checkpoint signer.
struct GatewayBackend: Sendable {
  let stores: Stores
  let keys: KeyRingFile
  /// Who signs checkpoints among replicas; `nil` on SQLite (one process).
  let election: (any SignerElection)?
  /// Services that run beside the workers (the commit listener on PostgreSQL).
  let workers: [any Service]
  /// Closes what the stores hold open (the PostgreSQL pool), once the gateway stopped.
  let close: @Sendable () -> Void

  /// Opens the configured backend; PostgreSQL is migrated at start (replicas starting together
  /// migrate once).
  /// - Throws: ``PostgresStorageError`` (unreachable, wrong password, unknown database, newer
  ///   schema) or ``TrackingError`` (keys that do not open the data), before anything serves.
  static func open(
    configuration: GatewayConfiguration,
    directory: DataDirectory,
    metrics: GatewayMetrics,
    logger: Logger
  ) async throws -> GatewayBackend {
    guard let url = configuration.databaseURL else {
      let keys = try directory.keyEncryptionKeys(
        create: !(try SQLiteStorage.holdsDataKeys(path: configuration.databasePath))
      )
      let stores = try SQLiteStorage.open(
        path: configuration.databasePath,
        blobDirectory: configuration.blobDirectory,
        keys: keys,
        busyTimeout: .milliseconds(configuration.storage.busyTimeoutMilliseconds),
        groupCommit: configuration.storage.groupCommit,
        observer: metrics
      )
      return GatewayBackend(stores: stores, keys: keys, election: nil, workers: [], close: {})
    }
    let location = try PostgresLocation(url: url)
    let pool = try await PostgresStorage.connect(
      location,
      maximumConnections: configuration.storage.maximumConnections,
      logger: logger.with("component", "postgres"),
      observer: metrics
    )
    do {
      let keys = try directory.keyEncryptionKeys(
        create: !(try await PostgresStorage.holdsDataKeys(pool))
      )
      let opened = try await PostgresStorage.open(
        pool: pool,
        keys: keys,
        // Each process its own (replicas may share a data directory on one host).
        spool: (NSTemporaryDirectory() as NSString).appendingPathComponent(
          "postal-gateway-uploads-\(UUID().uuidString)"
        ),
        handoffLease: .seconds(configuration.handoffs.claimLeaseSeconds)
      )
      logger.info(
        "serving from PostgreSQL",
        metadata: [
          "database": "\(location.redacted)",
          "database.schema": "\(PostgresSchema.latest)",
          "database.connections": "\(configuration.storage.maximumConnections)",
        ]
      )
      return GatewayBackend(
        stores: opened.stores,
        keys: keys,
        election: PostgresSignerLease(pool: pool),
        workers: [ChangeListenerService(listener: opened.listener)],
        close: { pool.close() }
      )
    } catch {
      pool.close()
      throw error
    }
  }
}

/// Runs the PostgreSQL commit listener until the gateway stops.
struct ChangeListenerService: Service, CustomStringConvertible {
  var description: String { "ChangeListener" }
  let listener: PostgresChangeListener

  func run() async {
    await cancelWhenGracefulShutdown {
      await self.listener.run()
    }
  }
}
