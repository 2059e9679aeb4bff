import Foundation
import GRDB
public import Tracking

/// Consistent copies of a live database file, for `postal-gateway backup` and `restore`.
public enum SQLiteBackup {
  /// Copies the database at `source` — which a running gateway may be writing meanwhile, from
  /// this or another process — into a new standalone file at `destination`, through SQLite's
  /// online backup API in one step: the copy is one committed snapshot (every write acknowledged
  /// before the copy began is in it, no half-written transaction is), and the writer is never
  /// blocked.
  /// - Throws: ``TrackingError`` `.storageFailure` naming the file that failed.
  public static func snapshot(from source: String, to destination: String) throws {
    guard FileManager.default.fileExists(atPath: source) else {
      throw TrackingError(code: .notFound, message: "no database at \(source)")
    }
    guard !FileManager.default.fileExists(atPath: destination) else {
      throw TrackingError(code: .conflict, message: "\(destination) exists already")
    }
    do {
      let database = try SQLiteDatabase(path: source, feed: ChangeFeed(), health: StoreHealth())
      let copy = try DatabaseQueue(path: destination)
      try database.pool.backup(to: copy)
      // The copy stands alone: no -wal file beside it, and fsynced before the manifest names it.
      try copy.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode = DELETE")
        try db.execute(sql: "PRAGMA synchronous = FULL")
      }
      try copy.close()
      try database.pool.close()
    } catch let error as TrackingError {
      throw error
    } catch {
      throw TrackingError(
        code: .storageFailure,
        message: "the backup of \(source) into \(destination) failed",
        underlying: String(describing: error)
      )
    }
  }

  /// Folds a copy's write-ahead log back into its main file and removes it, so the copy is one
  /// file again (after it was opened as a store).
  public static func makeStandalone(_ path: String) throws {
    do {
      let queue = try DatabaseQueue(path: path)
      try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode = DELETE")
      }
      try queue.close()
    } catch {
      throw TrackingError(
        code: .storageFailure,
        message: "the backup copy \(path) cannot be closed",
        underlying: String(describing: error)
      )
    }
  }

  /// What a database copy holds, for the manifest and the checks after a restore.
  public struct Contents: Sendable, Hashable {
    /// Shipments stored.
    public var shipments: Int64
    /// Events stored (all shipments).
    public var events: Int64
    /// The custody log's size.
    public var treeSize: Int64
    /// The digests of every stored scan (each must be in the scans folder).
    public var scanDigests: [String]
  }

  /// Reads the counts and scan digests of a database file.
  public static func contents(of path: String) throws -> Contents {
    do {
      let queue = try DatabaseQueue(path: path)
      defer { try? queue.close() }
      return try queue.read { db in
        Contents(
          shipments: try Int64.fetchOne(db, sql: "SELECT count(*) FROM shipment") ?? 0,
          events: try Int64.fetchOne(db, sql: "SELECT count(*) FROM shipment_event") ?? 0,
          treeSize: try Int64.fetchOne(db, sql: "SELECT count(*) FROM custody_leaf") ?? 0,
          scanDigests: try String.fetchAll(
            db,
            sql: "SELECT DISTINCT sha256 FROM scan_document ORDER BY sha256"
          )
        )
      }
    } catch {
      throw TrackingError(
        code: .storageFailure,
        message: "the database \(path) cannot be read",
        underlying: String(describing: error)
      )
    }
  }
}
