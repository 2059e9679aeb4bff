import Foundation
import GRDB
import Tracking

/// The one SQLite file every SQLite store shares: a `DatabasePool` in WAL mode with
/// `synchronous = FULL` (an acknowledged write survives a power loss), the schema, the group
/// commit that shares one fsync among concurrent writes, the change feed commits publish on, and
/// the health writes report to.
final class SQLiteDatabase: Sendable {
  let pool: DatabasePool
  private let groupCommit: GroupCommit
  let feed: ChangeFeed
  let health: StoreHealth
  let observer: (any CommitObserver)?

  /// Opens (creating if needed) the file and migrates its schema.
  /// - Throws: ``TrackingError`` `.storageFailure` naming the file when it cannot be opened, or
  ///   `.failedPrecondition` when a newer version migrated it.
  init(
    path: String,
    feed: ChangeFeed,
    health: StoreHealth,
    busyTimeout: Duration = .seconds(10),
    groupCommit: GroupCommitSettings = GroupCommitSettings(),
    observer: (any CommitObserver)? = nil
  ) throws {
    self.feed = feed
    self.health = health
    self.observer = observer
    do {
      var configuration = Configuration()
      configuration.prepareDatabase { db in
        try db.execute(sql: "PRAGMA foreign_keys = ON")
        // Deleted content (a destroyed data key, a cleared plain value) is overwritten with
        // zeros in the file, not left in free pages.
        try db.execute(sql: "PRAGMA secure_delete = ON")
      }
      // How long a write waits for a lock another process holds before it fails.
      configuration.busyMode = .timeout(
        Double(busyTimeout.components.seconds) + Double(busyTimeout.components.attoseconds) / 1e18
      )
      let pool = try DatabasePool(path: path, configuration: configuration)
      // DatabasePool switches to WAL and sets synchronous = NORMAL after prepareDatabase; an
      // acknowledged write must survive a power loss, so the (single) writer goes back to FULL.
      try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
      }
      try SQLiteSchema.migrate(pool)
      self.pool = pool
      self.groupCommit = GroupCommit(writer: pool, settings: groupCommit)
    } catch let error as TrackingError {
      throw error
    } catch {
      throw TrackingError(
        code: .storageFailure,
        message: "the database \(path) cannot be opened",
        underlying: String(describing: error)
      )
    }
  }

  /// Runs a write in a transaction (shared with concurrent writes, in its own savepoint); when
  /// that commits, publishes `topics` and reports a healthy store. The observer is told how long
  /// the caller waited either way.
  /// Errors of the request (``TrackingError``) pass through unchanged; the database's own
  /// failures become `.storageFailure` and mark the store unhealthy when they mean it cannot
  /// write (disk full, I/O error, locked, read-only).
  func write<T: Sendable>(
    publishing topics: Set<StoreTopic> = [],
    _ body: @escaping @Sendable (Database) throws -> T
  ) async throws -> T {
    let start = ContinuousClock.now
    do {
      let value = try await self.groupCommit.write(body)
      self.observer?.transactionEnded(duration: start.duration(to: .now), committed: true)
      self.health.recordSuccess()
      self.feed.publish(topics)
      return value
    } catch let error as TrackingError {
      self.observer?.transactionEnded(duration: start.duration(to: .now), committed: false)
      throw error
    } catch {
      self.observer?.transactionEnded(duration: start.duration(to: .now), committed: false)
      if Self.meansUnwritable(error) { self.health.recordFailure(String(describing: error)) }
      throw TrackingError.storageFailure(error)
    }
  }

  /// Runs a read in a snapshot (WAL readers never wait behind the writer).
  func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
    do {
      return try await self.pool.read(body)
    } catch let error as TrackingError {
      throw error
    } catch {
      throw TrackingError.storageFailure(error)
    }
  }

  private static func meansUnwritable(_ error: any Error) -> Bool {
    guard let error = error as? DatabaseError else { return false }
    return [
      ResultCode.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_READONLY,
      .SQLITE_CANTOPEN, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_PERM,
    ].contains(error.resultCode)
  }

  /// The row id of a shipment, or `nil`.
  static func shipmentID(_ number: TrackingNumber, in db: Database) throws -> Int64? {
    try Int64.fetchOne(
      db,
      sql: "SELECT id FROM shipment WHERE tracking_number = ?",
      arguments: [number.rawValue]
    )
  }
}

/// Stored data that the domain refuses: reported as a storage failure, never a crash.
struct Corruption: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
