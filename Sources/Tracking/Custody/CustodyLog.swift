/// A signed checkpoint as stored: the checkpoint and the signed note text.
public struct SignedCheckpoint: Hashable, Sendable {
  /// The checkpoint.
  public var checkpoint: Checkpoint
  /// The C2SP signed note.
  public var note: String
  /// When it was signed.
  public var signedAt: Timestamp

  /// Creates a value.
  public init(checkpoint: Checkpoint, note: String, signedAt: Timestamp) {
    self.checkpoint = checkpoint
    self.note = note
    self.signedAt = signedAt
  }
}

/// Reading the custody log's storage. Leaves and complete-subtree hashes are written by the
/// shipment store in the same transaction as the events they record (``ShipmentWrite``), with
/// contiguous indexes from one sequencer.
public protocol CustodyLogStore: Sendable {
  /// The number of leaves.
  func treeSize() async throws -> Int64
  /// The stored hashes of these complete subtrees (all must exist below the tree size).
  func nodes(_ ids: [NodeID]) async throws -> [NodeID: [UInt8]]
  /// Leaf data from `start`, at most `count`.
  func entries(start: Int64, count: Int) async throws -> [[UInt8]]
  /// The leaf indexes of a shipment's events, in event order.
  func leafIndexes(of number: TrackingNumber) async throws -> [Int64]
  /// The checkpoint of the largest size, if any.
  func latestCheckpoint() async throws -> SignedCheckpoint?
  /// Stored checkpoints of sizes above `size`, smallest first, at most `limit`.
  func checkpoints(after size: Int64, limit: Int) async throws -> [SignedCheckpoint]
  /// Stores a newly signed checkpoint. Refuses (``TrackingError/Code/failedPrecondition``) one
  /// whose size is not above every stored one.
  func save(_ checkpoint: SignedCheckpoint) async throws
}

/// Answers about the log: roots, proofs and entries for any size up to the current one.
public struct CustodyLog: Sendable {
  /// The log's origin line.
  public let origin: String
  private let store: any CustodyLogStore

  /// Creates the service.
  public init(origin: String, store: any CustodyLogStore) {
    self.origin = origin
    self.store = store
  }

  /// The number of leaves.
  public func treeSize() async throws -> Int64 { try await self.store.treeSize() }

  /// The root of the tree of `size` leaves.
  /// - Throws: ``TrackingError`` `.invalidArgument` (`tree_size`) beyond the current size.
  public func root(size: Int64) async throws -> [UInt8] {
    try await self.checkSize(size, field: "tree_size")
    let nodes = try await self.store.nodes(MerkleProofBuilder.nodes(forRootOf: size))
    return try MerkleProofBuilder.root(size: size) { try Self.lookup($0, in: nodes) }
  }

  /// The inclusion proof of leaf `index` in the tree of `size` leaves.
  public func inclusionProof(index: Int64, size: Int64) async throws -> [[UInt8]] {
    try await self.checkSize(size, field: "tree_size")
    guard index >= 0, index < size else {
      throw TrackingError.invalidField("leaf_index", "must be below the tree size")
    }
    let nodes = try await self.store.nodes(
      MerkleProofBuilder.nodes(forInclusion: index, size: size)
    )
    return try MerkleProofBuilder.inclusionProof(index: index, size: size) {
      try Self.lookup($0, in: nodes)
    }
  }

  /// The consistency proof from `first` to `second` leaves.
  public func consistencyProof(first: Int64, second: Int64) async throws -> [[UInt8]] {
    try await self.checkSize(second, field: "second_size")
    guard first > 0, first <= second else {
      throw TrackingError.invalidField("first_size", "must be between 1 and second_size")
    }
    let nodes = try await self.store.nodes(MerkleProofBuilder.nodes(forConsistency: first, second))
    return try MerkleProofBuilder.consistencyProof(size1: first, size2: second) {
      try Self.lookup($0, in: nodes)
    }
  }

  /// Leaf data from `start`.
  public func entries(start: Int64, count: Int) async throws -> [[UInt8]] {
    let size = try await self.store.treeSize()
    guard start >= 0, start <= size else {
      throw TrackingError.invalidField("start", "must be within the log")
    }
    guard (1 ... 1000).contains(count) else {
      throw TrackingError.invalidField("count", "must be 1–1000")
    }
    return try await self.store.entries(start: start, count: count)
  }

  /// The latest signed checkpoint, if any.
  public func latestCheckpoint() async throws -> SignedCheckpoint? {
    try await self.store.latestCheckpoint()
  }

  /// Every stored checkpoint, smallest first, a page at a time.
  public func forEachCheckpoint(
    _ body: (SignedCheckpoint) async throws -> Void
  ) async throws {
    var after: Int64 = 0
    while true {
      let page = try await self.store.checkpoints(after: after, limit: 500)
      for checkpoint in page { try await body(checkpoint) }
      guard let last = page.last else { return }
      after = last.checkpoint.size
    }
  }

  /// The leaf indexes of a shipment's events.
  public func leafIndexes(of number: TrackingNumber) async throws -> [Int64] {
    try await self.store.leafIndexes(of: number)
  }

  private func checkSize(_ size: Int64, field: String) async throws {
    let current = try await self.store.treeSize()
    guard size >= 1, size <= current else {
      throw TrackingError.invalidField(field, "must be between 1 and the log's size (\(current))")
    }
  }

  static func lookup(_ id: NodeID, in nodes: [NodeID: [UInt8]]) throws -> [UInt8] {
    guard let hash = nodes[id] else {
      throw TrackingError(
        code: .storageFailure,
        message: "the log is missing a node",
        underlying: "node level \(id.level) index \(id.index) is not stored"
      )
    }
    return hash
  }
}
