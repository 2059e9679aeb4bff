import Foundation
import GRDB
public import Tracking

extension SQLiteShipmentStore {
  /// Appends one leaf and the complete subtrees it finishes, inside the caller's transaction.
  static func appendLeaf(_ data: [UInt8], shipmentID: Int64, sequence: Int, in db: Database) throws
  {
    let index =
      try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM custody_leaf") ?? 0
    try db.execute(
      sql:
        "INSERT INTO custody_leaf (leaf_index, data, shipment_id, event_sequence) VALUES (?, ?, ?, ?)",
      arguments: [index, Data(data), shipmentID, sequence]
    )
    let added = try MerkleAppender.nodesAdded(index: index, leafHash: RFC6962.leafHash(data)) {
      id in
      guard
        let hash = try Data.fetchOne(
          db,
          sql: "SELECT hash FROM custody_node WHERE level = ? AND node_index = ?",
          arguments: [id.level, id.index]
        )
      else { throw Corruption("custody node \(id.level)/\(id.index) is missing") }
      return Array(hash)
    }
    for (id, hash) in added {
      try db.execute(
        sql: "INSERT INTO custody_node (level, node_index, hash) VALUES (?, ?, ?)",
        arguments: [id.level, id.index, Data(hash)]
      )
    }
  }
}

extension SQLiteShipmentStore: CustodyLogStore {
  public func treeSize() async throws -> Int64 {
    try await self.read { db in
      try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM custody_leaf") ?? 0
    }
  }

  public func nodes(_ ids: [NodeID]) async throws -> [NodeID: [UInt8]] {
    guard !ids.isEmpty else { return [:] }
    return try await self.read { db in
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
        let rows = try Row.fetchAll(
          db,
          sql: Array(repeating: seek, count: chunk.count).joined(separator: " UNION ALL "),
          arguments: arguments
        )
        for row in rows {
          let hash: Data = row["hash"]
          nodes[NodeID(level: row["level"], index: row["node_index"])] = Array(hash)
        }
      }
      return nodes
    }
  }

  public func entries(start: Int64, count: Int) async throws -> [[UInt8]] {
    try await self.read { db in
      try Data.fetchAll(
        db,
        sql: "SELECT data FROM custody_leaf WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
        arguments: [start, count]
      ).map { Array($0) }
    }
  }

  public func leafIndexes(of number: TrackingNumber) async throws -> [Int64] {
    try await self.read { db in
      try Int64.fetchAll(
        db,
        sql: """
          SELECT l.leaf_index FROM custody_leaf l JOIN shipment s ON s.id = l.shipment_id
          WHERE s.tracking_number = ? ORDER BY l.event_sequence
          """,
        arguments: [number.rawValue]
      )
    }
  }

  public func checkpoints() async throws -> [SignedCheckpoint] {
    try await self.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM custody_checkpoint ORDER BY tree_size").map { row in
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
  }

  public func save(_ checkpoint: SignedCheckpoint) async throws {
    try await self.write { db in
      try db.execute(
        sql:
          "INSERT INTO custody_checkpoint (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)",
        arguments: [
          checkpoint.checkpoint.size, Data(checkpoint.checkpoint.root), checkpoint.note,
          checkpoint.signedAt.microseconds,
        ]
      )
    }
  }

  /// Recomputes every stored node from the leaves and checks every stored checkpoint's root
  /// against the recomputed tree.
  /// - Returns: The first mismatch, or `nil` when the log is intact; and the number of leaves.
  public func fsck(verifier: NoteVerifier) async throws -> (problem: String?, leaves: Int64) {
    try await self.read { db in
      var lastAtLevel: [Int: (Int64, [UInt8])] = [:]
      var count: Int64 = 0
      let batch: Int64 = 4096
      var computedRoots: [Int64: [UInt8]] = [:]
      let checkpointSizes = Set(
        try Int64.fetchAll(db, sql: "SELECT tree_size FROM custody_checkpoint")
      )
      while true {
        let rows = try Row.fetchAll(
          db,
          sql:
            "SELECT leaf_index, data FROM custody_leaf WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
          arguments: [count, batch]
        )
        if rows.isEmpty { break }
        var expected: [NodeID: [UInt8]] = [:]
        for row in rows {
          let index: Int64 = row["leaf_index"]
          guard index == count else { return ("leaf \(count) is missing", count) }
          let data: Data = row["data"]
          let added = try MerkleAppender.nodesAdded(
            index: index,
            leafHash: RFC6962.leafHash(Array(data))
          ) { id in
            guard let (position, hash) = lastAtLevel[id.level], position == id.index else {
              throw Corruption("fsck lost track of level \(id.level)")
            }
            return hash
          }
          for (id, hash) in added {
            lastAtLevel[id.level] = (id.index, hash)
            expected[id] = hash
          }
          count += 1
          if checkpointSizes.contains(count) {
            computedRoots[count] = MerkleProofBuilder.root(size: count) { id in
              // Every node of a root is either complete or folded from the last complete ones.
              lastAtLevel[id.level].flatMap { $0.0 == id.index ? $0.1 : nil } ?? []
            }
          }
        }
        let stored = Dictionary(
          uniqueKeysWithValues: try Row.fetchAll(
            db,
            sql: """
              SELECT level, node_index, hash FROM custody_node
              WHERE node_index >= (? >> level) AND node_index < ((? + 1) >> level)
              """,
            // rows is not empty: the loop ends on an empty batch.
            arguments: [rows.first!["leaf_index"] as Int64, (rows.last!["leaf_index"] as Int64)]
          ).map { row -> (NodeID, [UInt8]) in
            let hash: Data = row["hash"]
            return (NodeID(level: row["level"], index: row["node_index"]), Array(hash))
          }
        )
        for id in expected.keys.sorted() {
          guard let hash = stored[id] else {
            return ("node level \(id.level) index \(id.index) is missing", count)
          }
          guard hash == expected[id] else {
            return (
              "node level \(id.level) index \(id.index) does not match the leaves below it", count
            )
          }
        }
      }
      for row in try Row.fetchAll(db, sql: "SELECT * FROM custody_checkpoint ORDER BY tree_size") {
        let size: Int64 = row["tree_size"]
        let root: Data = row["root"]
        let note: String = row["note"]
        guard let text = try? verifier.open(note), let parsed = try? Checkpoint(text: text) else {
          return ("checkpoint of size \(size) does not carry a valid signature", count)
        }
        guard parsed.size == size, parsed.root == Array(root) else {
          return (
            "checkpoint of size \(size): the stored size or root differs from the signed note",
            count
          )
        }
        guard size <= count, computedRoots[size] == parsed.root else {
          return ("checkpoint of size \(size) does not match the leaves", count)
        }
      }
      return (nil, count)
    }
  }
}

extension SQLiteShipmentStore {
  /// Appends leaves without events, in one transaction (for the benchmark only: the service
  /// appends a leaf with each event).
  @_spi(Benchmark)
  public func appendRawLeaves(_ leaves: [[UInt8]], shipment number: TrackingNumber) async throws {
    try await self.write { db in
      guard let id = try Self.shipmentID(number, in: db) else {
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
        try Self.appendLeaf(leaf, shipmentID: id, sequence: sequence, in: db)
      }
    }
  }

  /// One stored node by its own query (the benchmark's baseline for proof reads).
  @_spi(Benchmark)
  public func node(_ id: NodeID) async throws -> [UInt8]? {
    try await self.read { db in
      try Data.fetchOne(
        db,
        sql: "SELECT hash FROM custody_node WHERE level = ? AND node_index = ?",
        arguments: [id.level, id.index]
      ).map { Array($0) }
    }
  }
}
