/// `log fsck`: recomputes every stored node from the leaves and checks every stored
/// checkpoint against the recomputed tree, through the ``CustodyLogStore`` contract only (so it
/// runs the same on any backend), in bounded memory.
public struct CustodyLogAudit: Sendable {
  /// What the audit found.
  public struct Finding: Hashable, Sendable {
    /// The first problem, or `nil` when the log is intact.
    public var problem: String?
    /// Leaves read.
    public var leaves: Int64
    /// Checkpoints checked.
    public var checkpoints: Int
  }

  private let store: any CustodyLogStore
  private let verifier: NoteVerifier
  private let batch: Int

  /// Creates an audit.
  /// - Parameters:
  ///   - store: The log's storage.
  ///   - verifier: The log's key, which every checkpoint must be signed with.
  ///   - batch: Leaves read per request.
  public init(store: any CustodyLogStore, verifier: NoteVerifier, batch: Int = 4096) {
    self.store = store
    self.verifier = verifier
    self.batch = batch
  }

  /// Runs the audit.
  /// - Throws: ``TrackingError`` `.storageFailure` when the store cannot be read.
  public func run() async throws -> Finding {
    let size = try await self.store.treeSize()
    var lastAtLevel: [Int: (Int64, [UInt8])] = [:]
    var count: Int64 = 0
    var checked = 0
    var pending = try await self.store.checkpoints(after: 0, limit: 100)[...]
    func finding(_ problem: String?) -> Finding {
      Finding(problem: problem, leaves: count, checkpoints: checked)
    }
    while count < size {
      let entries = try await self.store.entries(start: count, count: self.batch)
      guard !entries.isEmpty else { return finding("leaf \(count) is missing") }
      var expected: [NodeID: [UInt8]] = [:]
      for data in entries {
        let added = try MerkleAppender.nodesAdded(index: count, leafHash: RFC6962.leafHash(data)) {
          id in
          guard let (position, hash) = lastAtLevel[id.level], position == id.index else {
            throw TrackingError(
              code: .storageFailure,
              message: "fsck lost track of the tree",
              underlying: "level \(id.level)"
            )
          }
          return hash
        }
        for (id, hash) in added {
          lastAtLevel[id.level] = (id.index, hash)
          expected[id] = hash
        }
        count += 1
        while let next = pending.first, next.checkpoint.size <= count {
          if next.checkpoint.size == count {
            let root = MerkleProofBuilder.root(size: count) { id in
              lastAtLevel[id.level].flatMap { $0.0 == id.index ? $0.1 : nil } ?? []
            }
            if let problem = self.check(next, root: root) { return finding(problem) }
            checked += 1
          } else {
            return finding("checkpoint of size \(next.checkpoint.size) does not match the leaves")
          }
          pending = pending.dropFirst()
          if pending.isEmpty {
            pending = try await self.store.checkpoints(after: next.checkpoint.size, limit: 100)[...]
          }
        }
      }
      let stored = try await self.store.nodes(Array(expected.keys))
      for id in expected.keys.sorted() {
        guard let hash = stored[id] else {
          return finding("node level \(id.level) index \(id.index) is missing")
        }
        guard hash == expected[id] else {
          return finding(
            "node level \(id.level) index \(id.index) does not match the leaves below it"
          )
        }
      }
    }
    if let beyond = pending.first {
      return finding(
        "checkpoint of size \(beyond.checkpoint.size) is larger than the log (\(size) leaves)"
      )
    }
    return finding(nil)
  }

  private func check(_ stored: SignedCheckpoint, root: [UInt8]) -> String? {
    let size = stored.checkpoint.size
    guard let text = try? self.verifier.open(stored.note), let parsed = try? Checkpoint(text: text)
    else {
      return "checkpoint of size \(size) does not carry a valid signature"
    }
    guard parsed.size == size, parsed.root == stored.checkpoint.root else {
      return "checkpoint of size \(size): the stored size or root differs from the signed note"
    }
    guard parsed.root == root else {
      return "checkpoint of size \(size) does not match the leaves"
    }
    return nil
  }
}
