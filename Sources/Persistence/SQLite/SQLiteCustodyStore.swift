import Foundation
import GRDB
public import Tracking

/// The ``CustodyLogStore`` on SQLite: leaves, every complete subtree hash, and checkpoints.
/// Leaves are appended by ``SQLiteShipmentStore`` in the transaction of the events they record,
/// with contiguous indexes (SQLite has one writer, so the next index is the tree size); SQLite
/// triggers refuse updates and deletes of leaves, nodes and checkpoints.
public final class SQLiteCustodyStore: CustodyLogStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  /// Appends leaves and the complete subtrees they finish, inside the caller's transaction.
  /// - Returns: The leaves' indexes, in order.
  static func append(
    _ leaves: [CustodyLeaf],
    shipmentID: Int64,
    in db: Database
  ) throws
    -> [Int64]
  {
    guard !leaves.isEmpty else { return [] }
    var index =
      try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM custody_leaf")
      ) ?? 0
    var indexes: [Int64] = []
    for leaf in leaves {
      try db.cachedStatement(
        sql:
          "INSERT INTO custody_leaf (leaf_index, data, shipment_id, event_sequence) VALUES (?, ?, ?, ?)"
      ).execute(
        arguments: [index, Data(leaf.data), shipmentID, leaf.eventSequence]
      )
      let added = try MerkleAppender.nodesAdded(
        index: index,
        leafHash: RFC6962.leafHash(leaf.data)
      ) { id in
        guard
          let hash = try Data.fetchOne(
            db.cachedStatement(
              sql: "SELECT hash FROM custody_node WHERE level = ? AND node_index = ?"
            ),
            arguments: [id.level, id.index]
          )
        else { throw Corruption("custody node \(id.level)/\(id.index) is missing") }
        return Array(hash)
      }
      for (id, hash) in added {
        try db.cachedStatement(
          sql: "INSERT INTO custody_node (level, node_index, hash) VALUES (?, ?, ?)"
        ).execute(
          arguments: [id.level, id.index, Data(hash)]
        )
      }
      indexes.append(index)
      index += 1
    }
    return indexes
  }

  public func treeSize() async throws -> Int64 {
    try await self.database.read { db in
      try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM custody_leaf")
      ) ?? 0
    }
  }

  public func nodes(_ ids: [NodeID]) async throws -> [NodeID: [UInt8]] {
    guard !ids.isEmpty else { return [:] }
    return try await self.database.read { db in
      // One statement for the whole proof (a proof needs O(log n) nodes): a primary-key seek per
      // node, which SQLite does not do for a row-value IN list.
      let seek =
        "SELECT level, node_index, hash FROM custody_node WHERE level = ? AND node_index = ?"
      var nodes: [NodeID: [UInt8]] = [:]
      // SQLite allows 500 terms in a compound select.
      for start in stride(from: 0, to: ids.count, by: 400) {
        let chunk = ids[start ..< min(start + 400, ids.count)]
        var arguments = StatementArguments()
        for id in chunk { arguments += [id.level, id.index] }
        let sql = Array(repeating: seek, count: chunk.count).joined(separator: " UNION ALL ")
        // Proofs of any realistic log need at most 64 nodes: those statements (one per count) are
        // prepared once per connection; longer lists (bulk tools) are prepared each time.
        let statement =
          chunk.count <= 64 ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let rows = try Row.fetchAll(statement, arguments: arguments)
        for row in rows {
          let hash: Data = row["hash"]
          nodes[NodeID(level: row["level"], index: row["node_index"])] = Array(hash)
        }
      }
      return nodes
    }
  }

  public func entries(start: Int64, count: Int) async throws -> [[UInt8]] {
    try await self.database.read { db in
      try Data.fetchAll(
        db.cachedStatement(
          sql: "SELECT data FROM custody_leaf WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?"
        ),
        arguments: [start, count]
      ).map { Array($0) }
    }
  }

  public func leafIndexes(of number: TrackingNumber) async throws -> [Int64] {
    try await self.database.read { db in
      try Int64.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT l.leaf_index FROM custody_leaf l JOIN shipment s ON s.id = l.shipment_id
            WHERE s.tracking_number = ? ORDER BY l.event_sequence
            """
        ),
        arguments: [number.rawValue]
      )
    }
  }

  public func latestCheckpoint() async throws -> SignedCheckpoint? {
    try await self.database.read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT * FROM custody_checkpoint ORDER BY tree_size DESC LIMIT 1")
      ).map(Self.decodeCheckpoint)
    }
  }

  public func checkpoints(after size: Int64, limit: Int) async throws -> [SignedCheckpoint] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: "SELECT * FROM custody_checkpoint WHERE tree_size > ? ORDER BY tree_size LIMIT ?"
        ),
        arguments: [size, limit]
      ).map(Self.decodeCheckpoint)
    }
  }

  public func save(_ checkpoint: SignedCheckpoint) async throws {
    try await self.database.write { db in
      let largest =
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(tree_size) FROM custody_checkpoint"))
        ?? 0
      guard checkpoint.checkpoint.size > largest else {
        throw TrackingError(
          code: .failedPrecondition,
          message:
            "a checkpoint of size \(checkpoint.checkpoint.size) is not above the largest signed (\(largest))"
        )
      }
      try db.cachedStatement(
        sql: "INSERT INTO custody_checkpoint (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)"
      ).execute(
        arguments: [
          checkpoint.checkpoint.size, Data(checkpoint.checkpoint.root), checkpoint.note,
          checkpoint.signedAt.microseconds,
        ]
      )
    }
  }

  private static func decodeCheckpoint(_ row: Row) throws -> SignedCheckpoint {
    let root: Data = row["root"]
    let note: String = row["note"]
    guard let text = note.components(separatedBy: "\n\n").first.map({ $0 + "\n" }),
      let parsed = try? Checkpoint(text: text)
    else { throw Corruption("a stored checkpoint is not a checkpoint note") }
    return SignedCheckpoint(
      checkpoint: Checkpoint(origin: parsed.origin, size: row["tree_size"], root: Array(root)),
      note: note,
      signedAt: Timestamp(microseconds: row["signed_at"])
    )
  }
}
