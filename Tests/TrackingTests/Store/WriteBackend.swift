import Foundation
import Persistence
import PostgresStorage
import Tracking

/// The stores PostgreSQL has so far, as the contract suites that run on both backends use them
/// (the others run on SQLite until their PostgreSQL stores exist).
struct WritePath: Sendable {
  var shipments: any ShipmentStore
  var custody: any CustodyLogStore
  var handoffs: any HandoffStore
  var accessAudit: any AccessAuditStore
  var queueTickets: any QueueTicketStore
  var feed: ChangeFeed
}

extension Stores {
  /// This backend's write path.
  var writePath: WritePath {
    WritePath(
      shipments: self.shipments,
      custody: self.custody,
      handoffs: self.handoffs,
      accessAudit: self.accessAudit,
      queueTickets: self.queueTickets,
      feed: self.feed
    )
  }
}

/// A backend's write path, opened fresh for each test.
struct WriteBackend: Sendable, CustomStringConvertible {
  var description: String
  var open: @Sendable () async throws -> WritePath
  /// The same store after a restart.
  var reopen: @Sendable (WritePath) async throws -> WritePath

  static let sqlite = WriteBackend(
    description: "SQLite",
    open: {
      let stores = try await StoreBackend.sqlite.open()
      SQLitePaths.opened.update { $0[ObjectIdentifier(stores.feed)] = stores }
      return stores.writePath
    },
    reopen: { path in
      // Only paths this backend opened come back here; their feed names the SQLite stores.
      let stores = try await StoreBackend.sqlite.reopen(SQLitePaths.stores(of: path.feed))
      SQLitePaths.opened.update { $0[ObjectIdentifier(stores.feed)] = stores }
      return stores.writePath
    }
  )

  /// A replica's write path on a PostgreSQL database: its own pool and feed.
  static func postgresReplica(
    at location: PostgresLocation,
    maximumConnections: Int = 8,
    lease: Duration = .seconds(120)
  ) async throws -> WritePath {
    let pool = try await PostgresPool.open(location, maximumConnections: maximumConnections)
    try await PostgresSchema.migrate(pool)
    let feed = ChangeFeed()
    return WritePath(
      shipments: PostgresShipmentStore(pool: pool, keys: TestKeys.shared, feed: feed),
      custody: PostgresCustodyStore(pool: pool),
      handoffs: PostgresHandoffStore(pool: pool, feed: feed, lease: lease),
      accessAudit: PostgresAccessAuditStore(pool: pool),
      queueTickets: PostgresQueueTicketStore(pool: pool),
      feed: feed
    )
  }

  static let postgres: WriteBackend = {
    let locations = MutexBox<[ObjectIdentifier: PostgresLocation]>([:])
    @Sendable func open(_ location: PostgresLocation) async throws -> WritePath {
      let path = try await WriteBackend.postgresReplica(at: location)
      locations.update { $0[ObjectIdentifier(path.feed)] = location }
      return path
    }
    return WriteBackend(
      description: "PostgreSQL",
      open: { try await open(try await PostgresTestDatabase.create()) },
      reopen: { path in
        try await open(locations.read { $0[ObjectIdentifier(path.feed)]! })
      }
    )
  }()

  static let all: [WriteBackend] = [.sqlite] + (PostgresTestDatabase.enabled ? [.postgres] : [])
}

/// The SQLite stores behind a write path (to reopen them).
enum SQLitePaths {
  static let opened = MutexBox<[ObjectIdentifier: Stores]>([:])

  static func stores(of feed: ChangeFeed) -> Stores {
    Self.opened.read { $0[ObjectIdentifier(feed)]! }
  }
}
