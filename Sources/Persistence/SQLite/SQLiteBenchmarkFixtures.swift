import Foundation
import GRDB
public import Tracking

/// Fixtures and baselines for the benchmarks, on a database file the stores also open: raw
/// leaves, cloned shipments, hops without events, and the unindexed queries the indexed ones
/// are compared with. Not part of any store.
@_spi(Benchmark)
public final class SQLiteBenchmarkFixtures: Sendable {
  let database: SQLiteDatabase

  /// Opens the file.
  public init(path: String) throws {
    self.database = try SQLiteDatabase(path: path, feed: ChangeFeed(), health: StoreHealth())
  }
  /// Appends leaves without events, in one transaction (for the benchmark only: the service
  /// appends a leaf with each event).
  public func appendRawLeaves(_ leaves: [[UInt8]], shipment number: TrackingNumber) async throws {
    try await self.database.write { db in
      guard let id = try SQLiteDatabase.shipmentID(number, in: db) else {
        throw TrackingError.shipmentNotFound()
      }
      var sequence =
        try Int.fetchOne(
          db,
          sql: "SELECT COALESCE(MAX(event_sequence), 0) FROM custody_leaf WHERE shipment_id = ?",
          arguments: [id]
        ) ?? 0
      for leaf in leaves {
        sequence += 1
        _ = try SQLiteCustodyStore.append(
          [CustodyLeaf(eventSequence: sequence, data: leaf)],
          shipmentID: id,
          in: db
        )
      }
    }
  }

  /// One stored node by its own query (the benchmark's baseline for proof reads).
  public func node(_ id: NodeID) async throws -> [UInt8]? {
    try await self.database.read { db in
      try Data.fetchOne(
        db,
        sql: "SELECT hash FROM custody_node WHERE level = ? AND node_index = ?",
        arguments: [id.level, id.index]
      ).map { Array($0) }
    }
  }
  /// Copies a stored shipment under new numbers (no events), for the benchmark's million open
  /// shipments.
  public func cloneForBenchmark(
    _ template: TrackingNumber,
    as numbers: [TrackingNumber]
  )
    async throws
  {
    try await self.database.write { db in
      let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(shipment)")
        .map { $0["name"] as String }
        .filter { $0 != "id" && $0 != "tracking_number" }
        .joined(separator: ", ")
      let statement = try db.makeStatement(
        sql: """
          INSERT INTO shipment (tracking_number, \(columns))
          SELECT ?, \(columns) FROM shipment WHERE tracking_number = ?
          """
      )
      for number in numbers {
        try statement.execute(arguments: [number.rawValue, template.rawValue])
      }
    }
  }

  /// Stores hops as they are, without alerts, for the benchmark.
  public func insertForBenchmark(_ hops: [HopTimeliness]) async throws {
    try await self.database.write { db in
      let placeholders = Array(repeating: "?", count: SQLiteSlaStore.hopColumns.count)
        .joined(separator: ", ")
      let statement = try db.makeStatement(
        sql: """
          INSERT INTO sla_hop (shipment_id, \(SQLiteSlaStore.hopColumns.joined(separator: ", ")))
          SELECT id, \(placeholders) FROM shipment WHERE tracking_number = ?
          """
      )
      for hop in hops {
        try statement.execute(
          arguments: StatementArguments(SQLiteSlaStore.values(hop) + [hop.trackingNumber.rawValue])
        )
      }
    }
  }

  /// The at-risk count by a full scan of the hops (the benchmark's baseline).
  public func atRiskCountByScan(now: Timestamp) async throws -> Int {
    try await self.database.read { db in
      try Int.fetchOne(
        db,
        sql: """
          SELECT count(*) FROM sla_hop NOT INDEXED WHERE end_sequence IS NULL AND at_risk_at <= ?
          """,
        arguments: [now.microseconds]
      ) ?? 0
    }
  }

  /// The query plan of the at-risk lookup, to show it uses the index.
  public func atRiskPlan() async throws -> String {
    try await self.database.read { db in
      try Row.fetchAll(
        db,
        sql: """
          EXPLAIN QUERY PLAN SELECT rowid FROM sla_hop INDEXED BY sla_hop_at_risk
          WHERE end_sequence IS NULL AND at_risk_raised = 0 AND at_risk_at <= 0 LIMIT 1000
          """
      ).map { $0["detail"] as String }.joined(separator: "; ")
    }
  }
}
