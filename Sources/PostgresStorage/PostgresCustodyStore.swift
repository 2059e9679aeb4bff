import Foundation
import Logging
public import PostgresNIO
public import Tracking

/// The ``CustodyLogStore`` on PostgreSQL: leaves, every complete subtree hash and checkpoints,
/// shared by every replica. Leaves get their indexes from one sequencer, the `custody_tree`
/// row, which an append locks (`UPDATE … RETURNING`) in the transaction of the events it logs:
/// appends from any number of replicas are ordered by that lock, so indexes are contiguous with
/// no gap and no duplicate, and a rolled-back append hands its indexes back. Triggers refuse
/// updates and deletes of leaves, nodes and checkpoints.
public struct PostgresCustodyStore: CustodyLogStore {
  let pool: PostgresPool

  /// A store on a migrated database.
  public init(pool: PostgresPool) {
    self.pool = pool
  }

  /// Appends leaves and the complete subtrees they finish, inside the caller's transaction
  /// (the one that writes the events they record).
  /// - Returns: The leaves' indexes, in order.
  public static func append(
    _ leaves: [CustodyLeaf],
    of number: TrackingNumber,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [Int64] {
    guard !leaves.isEmpty else { return [] }
    let count = Int64(leaves.count)
    // Takes the sequencer's row lock until this transaction ends.
    let claimed = try await connection.query(
      "UPDATE custody_tree SET size = size + \(count) WHERE id = 1 RETURNING size - \(count)",
      logger: logger
    )
    var first: Int64?
    for try await start in claimed.decode(Int64.self) { first = start }
    guard let first else { throw Corruption("custody_tree has no row") }
    // Every left sibling the batch needs, in one read: those not stored are made by the batch.
    let indexes = Array(first ..< first + count)
    var known = try await Self.nodes(
      Array(Set(indexes.flatMap(Self.leftSiblings(of:)))),
      on: connection,
      logger: logger
    )
    var added: [(NodeID, [UInt8])] = []
    for (leaf, index) in zip(leaves, indexes) {
      for (id, hash) in try MerkleAppender.nodesAdded(
        index: index,
        leafHash: RFC6962.leafHash(leaf.data)
      ) { id in
        guard let hash = known[id] else {
          throw Corruption("custody node \(id.level)/\(id.index) is missing")
        }
        return hash
      } {
        known[id] = hash
        added.append((id, hash))
      }
    }
    // The leaves and their nodes in one statement: the sequencer's lock is held for three
    // round trips and the commit.
    var bindings = PostgresBindings()
    var leafRows: [String] = []
    for (leaf, index) in zip(leaves, indexes) {
      let base = bindings.count
      try bindings.append(index)
      try bindings.append(Data(leaf.data))
      try bindings.append(number.rawValue)
      try bindings.append(leaf.eventSequence)
      leafRows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4))")
    }
    var nodeRows: [String] = []
    for (id, hash) in added {
      let base = bindings.count
      try bindings.append(Int16(id.level))
      try bindings.append(id.index)
      try bindings.append(Data(hash))
      nodeRows.append("($\(base + 1), $\(base + 2), $\(base + 3))")
    }
    try await connection.query(
      PostgresQuery(
        unsafeSQL: """
          WITH leaves AS (
            INSERT INTO custody_leaf (leaf_index, data, tracking_number, event_sequence)
            VALUES \(leafRows.joined(separator: ", "))
          )
          INSERT INTO custody_node (level, node_index, hash) VALUES \(nodeRows.joined(separator: ", "))
          """,
        binds: bindings
      ),
      logger: logger
    )
    return indexes
  }

  /// The complete subtrees a leaf at `index` joins with on its way up.
  static func leftSiblings(of index: Int64) -> [NodeID] {
    var siblings: [NodeID] = []
    var level = 0
    var position = index
    while position & 1 == 1 {
      siblings.append(NodeID(level: level, index: position - 1))
      level += 1
      position >>= 1
    }
    return siblings
  }

  static func nodes(
    _ ids: [NodeID],
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [NodeID: [UInt8]] {
    guard !ids.isEmpty else { return [:] }
    let levels = ids.map { Int64($0.level) }
    let indexes = ids.map(\.index)
    let rows = try await connection.query(
      """
      SELECT n.level::bigint, n.node_index, n.hash FROM custody_node n
      JOIN unnest(\(levels)::bigint[], \(indexes)::bigint[]) AS wanted(level, node_index)
        ON n.level = wanted.level AND n.node_index = wanted.node_index
      """,
      logger: logger
    )
    var nodes: [NodeID: [UInt8]] = [:]
    for try await (level, index, hash) in rows.decode((Int64, Int64, Data).self) {
      nodes[NodeID(level: Int(level), index: index)] = Array(hash)
    }
    return nodes
  }

  public func treeSize() async throws -> Int64 {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT size FROM custody_tree WHERE id = 1",
        logger: self.pool.logger
      )
      for try await size in rows.decode(Int64.self) { return size }
      throw Corruption("custody_tree has no row")
    }
  }

  public func nodes(_ ids: [NodeID]) async throws -> [NodeID: [UInt8]] {
    try await self.pool.withConnection { connection in
      try await Self.nodes(ids, on: connection, logger: self.pool.logger)
    }
  }

  public func entries(start: Int64, count: Int) async throws -> [[UInt8]] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT data FROM custody_leaf WHERE leaf_index >= \(start) ORDER BY leaf_index LIMIT \(Int64(count))",
        logger: self.pool.logger
      )
      var entries: [[UInt8]] = []
      for try await data in rows.decode(Data.self) { entries.append(Array(data)) }
      return entries
    }
  }

  public func leafIndexes(of number: TrackingNumber) async throws -> [Int64] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT leaf_index FROM custody_leaf WHERE tracking_number = \(number.rawValue) ORDER BY event_sequence",
        logger: self.pool.logger
      )
      var indexes: [Int64] = []
      for try await index in rows.decode(Int64.self) { indexes.append(index) }
      return indexes
    }
  }

  public func latestCheckpoint() async throws -> SignedCheckpoint? {
    try await self.checkpoints(
      "SELECT tree_size, root, note, signed_at FROM custody_checkpoint ORDER BY tree_size DESC LIMIT 1"
    ).first
  }

  public func checkpoints(after size: Int64, limit: Int) async throws -> [SignedCheckpoint] {
    try await self.checkpoints(
      """
      SELECT tree_size, root, note, signed_at FROM custody_checkpoint
      WHERE tree_size > \(size) ORDER BY tree_size LIMIT \(Int64(limit))
      """
    )
  }

  /// Stores a checkpoint under a transaction-scoped advisory lock, so two signers (a replica
  /// that lost its lease and the one that took it over) cannot both store one, and never one
  /// smaller than a stored one or larger than the tree.
  public func save(_ checkpoint: SignedCheckpoint) async throws {
    try await self.pool.transaction { connection in
      try await connection.query(
        "SELECT pg_advisory_xact_lock(\(PostgresSignerLease.checkpointLockKey))",
        logger: self.pool.logger
      )
      let rows = try await connection.query(
        """
        SELECT (SELECT COALESCE(MAX(tree_size), 0) FROM custody_checkpoint),
               (SELECT size FROM custody_tree WHERE id = 1)
        """,
        logger: self.pool.logger
      )
      var largest: Int64 = 0
      var size: Int64 = 0
      for try await (signed, tree) in rows.decode((Int64, Int64).self) {
        largest = signed
        size = tree
      }
      guard checkpoint.checkpoint.size > largest else {
        throw TrackingError(
          code: .failedPrecondition,
          message:
            "a checkpoint of size \(checkpoint.checkpoint.size) is not above the largest signed (\(largest))"
        )
      }
      guard checkpoint.checkpoint.size <= size else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "a checkpoint of size \(checkpoint.checkpoint.size) is beyond the tree (\(size))"
        )
      }
      try await connection.query(
        """
        INSERT INTO custody_checkpoint (tree_size, root, note, signed_at)
        VALUES (\(checkpoint.checkpoint.size), \(Data(checkpoint.checkpoint.root)), \(checkpoint.note), \(checkpoint.signedAt.microseconds))
        """,
        logger: self.pool.logger
      )
    }
  }

  private func checkpoints(_ query: PostgresQuery) async throws -> [SignedCheckpoint] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(query, logger: self.pool.logger)
      var checkpoints: [SignedCheckpoint] = []
      for try await (size, root, note, signedAt) in rows.decode((Int64, Data, String, Int64).self) {
        guard let text = note.components(separatedBy: "\n\n").first.map({ $0 + "\n" }),
          let parsed = try? Checkpoint(text: text)
        else { throw Corruption("a stored checkpoint is not a checkpoint note") }
        checkpoints.append(
          SignedCheckpoint(
            checkpoint: Checkpoint(origin: parsed.origin, size: size, root: Array(root)),
            note: note,
            signedAt: Timestamp(microseconds: signedAt)
          )
        )
      }
      return checkpoints
    }
  }
}

/// Stored data that breaks the schema's own rules.
struct Corruption: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
