import Crypto

/// RFC 6962 / RFC 9162 Merkle tree hashing: leaves are `SHA-256(0x00 ‖ data)`, interior nodes
/// `SHA-256(0x01 ‖ left ‖ right)`, the empty tree `SHA-256("")`.
public enum RFC6962 {
  /// The hash of a leaf's data.
  public static func leafHash(_ data: some Sequence<UInt8>) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(data: [0])
    hasher.update(data: Array(data))
    return Array(hasher.finalize())
  }

  /// The hash of an interior node.
  public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(data: [1])
    hasher.update(data: left)
    hasher.update(data: right)
    return Array(hasher.finalize())
  }

  /// The root of the empty tree.
  public static let emptyRoot: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

  /// The largest power of two strictly below `n` (for n ≥ 2).
  static func split(_ n: Int64) -> Int64 {
    precondition(n >= 2, "only trees of two or more leaves split")
    // 2^(bit length of n − 1 minus one): no loop, so no overflow for sizes near Int64.max.
    return 1 << (63 - (n - 1).leadingZeroBitCount)
  }
}

/// Why a proof does not verify.
public struct ProofError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What is wrong.
  public var description: String

  init(_ description: String) { self.description = description }
}

/// Verifying inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).
public enum MerkleVerifier {
  /// Checks that `leafHash` is at `index` in the tree of `size` leaves whose root is `root`.
  /// - Throws: ``ProofError`` when the index is out of range, a hash has the wrong length, the
  ///   proof has the wrong length, or the computed root differs.
  public static func verifyInclusion(
    index: Int64,
    size: Int64,
    leafHash: [UInt8],
    proof: [[UInt8]],
    root: [UInt8]
  ) throws {
    let computed = try Self.rootFromInclusion(
      index: index,
      size: size,
      leafHash: leafHash,
      proof: proof
    )
    guard root.count == 32, computed == root else {
      throw ProofError("the computed root does not match")
    }
  }

  /// The root an inclusion proof leads to.
  public static func rootFromInclusion(
    index: Int64,
    size: Int64,
    leafHash: [UInt8],
    proof: [[UInt8]]
  ) throws -> [UInt8] {
    guard index >= 0, index < size else {
      throw ProofError("leaf index \(index) is not below tree size \(size)")
    }
    guard leafHash.count == 32, proof.allSatisfy({ $0.count == 32 }) else {
      throw ProofError("hashes must be 32 bytes")
    }
    // RFC 9162 §2.1.3.2.
    var fn = index
    var sn = size - 1
    var r = leafHash
    for p in proof {
      guard sn != 0 else { throw ProofError("the proof is too long") }
      if fn & 1 == 1 || fn == sn {
        r = RFC6962.nodeHash(p, r)
        if fn & 1 == 0 {
          repeat {
            fn >>= 1
            sn >>= 1
          } while fn & 1 == 0 && fn != 0
        }
      } else {
        r = RFC6962.nodeHash(r, p)
      }
      fn >>= 1
      sn >>= 1
    }
    guard sn == 0 else { throw ProofError("the proof is too short") }
    return r
  }

  /// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
  /// with root `root1`. Sizes must satisfy 0 < size1 ≤ size2; equal sizes need an empty proof and
  /// equal roots.
  /// - Throws: ``ProofError``.
  public static func verifyConsistency(
    size1: Int64,
    size2: Int64,
    proof: [[UInt8]],
    root1: [UInt8],
    root2: [UInt8]
  ) throws {
    guard size1 > 0 else {
      throw ProofError("a consistency proof from the empty tree proves nothing")
    }
    guard size1 <= size2 else {
      throw ProofError("size1 (\(size1)) is larger than size2 (\(size2))")
    }
    if size1 == size2 {
      // The same tree: nothing to prove beyond equal roots.
      guard proof.isEmpty else { throw ProofError("equal sizes need an empty proof") }
      guard root1 == root2 else { throw ProofError("equal sizes but different roots") }
      return
    }
    guard root1.count == 32, root2.count == 32, proof.allSatisfy({ $0.count == 32 }) else {
      throw ProofError("hashes must be 32 bytes")
    }
    guard !proof.isEmpty else { throw ProofError("the proof is empty") }
    // RFC 9162 §2.1.4.2.
    var path = proof
    if size1 & (size1 - 1) == 0 {  // size1 is a power of two
      path.insert(root1, at: 0)
    }
    var fn = size1 - 1
    var sn = size2 - 1
    while fn & 1 == 1 {
      fn >>= 1
      sn >>= 1
    }
    var fr = path[0]
    var sr = path[0]
    for c in path.dropFirst() {
      guard sn != 0 else { throw ProofError("the proof is too long") }
      if fn & 1 == 1 || fn == sn {
        fr = RFC6962.nodeHash(c, fr)
        sr = RFC6962.nodeHash(c, sr)
        if fn & 1 == 0 {
          repeat {
            fn >>= 1
            sn >>= 1
          } while fn & 1 == 0 && fn != 0
        }
      } else {
        sr = RFC6962.nodeHash(sr, c)
      }
      fn >>= 1
      sn >>= 1
    }
    guard sn == 0 else { throw ProofError("the proof is too short") }
    guard fr == root1 else { throw ProofError("the proof does not lead to the first root") }
    guard sr == root2 else { throw ProofError("the proof does not lead to the second root") }
  }
}

/// Where a complete subtree sits: `level` 0 is a leaf; a node at `level` covers the leaves
/// `index · 2^level ..< (index + 1) · 2^level`.
public struct NodeID: Hashable, Sendable, Comparable {
  /// Height above the leaves.
  public var level: Int
  /// Position on its level.
  public var index: Int64

  /// Creates an id.
  public init(level: Int, index: Int64) {
    self.level = level
    self.index = index
  }

  public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
    (lhs.level, lhs.index) < (rhs.level, rhs.index)
  }
}

/// Building proofs for any tree size from stored complete-subtree hashes.
///
/// Every hash a proof needs is a complete subtree (one stored node) except at most one per proof
/// on the right border, which folds at most log₂ n complete subtrees — so a proof needs O(log n)
/// reads. ``nodes(forInclusion:size:)`` and ``nodes(forConsistency:_:)`` list them first, so a
/// store can fetch them in one query.
public enum MerkleProofBuilder {
  /// The stored nodes an inclusion proof needs.
  public static func nodes(forInclusion index: Int64, size: Int64) -> [NodeID] {
    var recorder = Recorder()
    _ = Self.inclusion(index: index, start: 0, end: size) { recorder.record($0) }
    return recorder.ids
  }

  /// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 6962 PATH).
  /// - Parameter node: The stored hash of a complete subtree.
  public static func inclusionProof(
    index: Int64,
    size: Int64,
    node: (NodeID) throws -> [UInt8]
  ) rethrows -> [[UInt8]] {
    precondition(index >= 0 && index < size, "the leaf is in the tree")
    return try Self.inclusion(index: index, start: 0, end: size, node: node)
  }

  /// The stored nodes a consistency proof needs.
  public static func nodes(forConsistency size1: Int64, _ size2: Int64) -> [NodeID] {
    var recorder = Recorder()
    _ = Self.consistency(m: size1, start: 0, end: size2, complete: true) { recorder.record($0) }
    return recorder.ids
  }

  /// The consistency proof between sizes `size1` and `size2` (RFC 6962 PROOF), 0 < size1 ≤ size2.
  public static func consistencyProof(
    size1: Int64,
    size2: Int64,
    node: (NodeID) throws -> [UInt8]
  ) rethrows -> [[UInt8]] {
    precondition(size1 > 0 && size1 <= size2, "0 < size1 ≤ size2")
    if size1 == size2 { return [] }
    return try Self.consistency(m: size1, start: 0, end: size2, complete: true, node: node)
  }

  /// The stored nodes the root of a tree of `size` leaves needs.
  public static func nodes(forRootOf size: Int64) -> [NodeID] {
    var recorder = Recorder()
    _ = Self.rangeHash(start: 0, end: size) { recorder.record($0) }
    return recorder.ids
  }

  /// The root of the tree of `size` leaves.
  public static func root(size: Int64, node: (NodeID) throws -> [UInt8]) rethrows -> [UInt8] {
    size == 0 ? RFC6962.emptyRoot : try Self.rangeHash(start: 0, end: size, node: node)
  }

  /// MTH(D[start:end]); `start` is a multiple of the largest power of two ≤ end − start, as in
  /// every range the RFC's recursions visit.
  static func rangeHash(
    start: Int64,
    end: Int64,
    node: (NodeID) throws -> [UInt8]
  ) rethrows -> [UInt8] {
    let n = end - start
    if n & (n - 1) == 0 {  // a complete subtree
      let level = n.trailingZeroBitCount
      return try node(NodeID(level: level, index: start >> level))
    }
    let k = RFC6962.split(n)
    return RFC6962.nodeHash(
      try Self.rangeHash(start: start, end: start + k, node: node),
      try Self.rangeHash(start: start + k, end: end, node: node)
    )
  }

  private static func inclusion(
    index: Int64,
    start: Int64,
    end: Int64,
    node: (NodeID) throws -> [UInt8]
  ) rethrows -> [[UInt8]] {
    let n = end - start
    if n == 1 { return [] }
    let k = RFC6962.split(n)
    if index - start < k {
      return try Self.inclusion(index: index, start: start, end: start + k, node: node)
        + [try Self.rangeHash(start: start + k, end: end, node: node)]
    }
    return try Self.inclusion(index: index, start: start + k, end: end, node: node)
      + [try Self.rangeHash(start: start, end: start + k, node: node)]
  }

  private static func consistency(
    m: Int64,
    start: Int64,
    end: Int64,
    complete: Bool,
    node: (NodeID) throws -> [UInt8]
  ) rethrows -> [[UInt8]] {
    let n = end - start
    if m == n {
      return complete ? [] : [try Self.rangeHash(start: start, end: end, node: node)]
    }
    let k = RFC6962.split(n)
    if m <= k {
      return try Self.consistency(
        m: m,
        start: start,
        end: start + k,
        complete: complete,
        node: node
      )
        + [try Self.rangeHash(start: start + k, end: end, node: node)]
    }
    return try Self.consistency(m: m - k, start: start + k, end: end, complete: false, node: node)
      + [try Self.rangeHash(start: start, end: start + k, node: node)]
  }

  private struct Recorder {
    var ids: [NodeID] = []
    var seen: Set<NodeID> = []

    mutating func record(_ id: NodeID) -> [UInt8] {
      if self.seen.insert(id).inserted { self.ids.append(id) }
      return [UInt8](repeating: 0, count: 32)
    }
  }
}

/// The complete-subtree hashes an append adds: the leaf, then each parent it completes.
public enum MerkleAppender {
  /// The nodes completed by appending the leaf at `index`.
  /// - Parameters:
  ///   - index: The new leaf's index (the tree had `index` leaves).
  ///   - leafHash: Its hash.
  ///   - node: Reads an existing complete subtree (the left siblings).
  /// - Returns: The new nodes, bottom-up.
  public static func nodesAdded(
    index: Int64,
    leafHash: [UInt8],
    node: (NodeID) throws -> [UInt8]
  ) rethrows -> [(NodeID, [UInt8])] {
    var added: [(NodeID, [UInt8])] = [(NodeID(level: 0, index: index), leafHash)]
    var level = 0
    var position = index
    var hash = leafHash
    while position & 1 == 1 {
      let left = try node(NodeID(level: level, index: position - 1))
      hash = RFC6962.nodeHash(left, hash)
      level += 1
      position >>= 1
      added.append((NodeID(level: level, index: position), hash))
    }
    return added
  }
}

/// Subtree proofs (the Merkle Tree Certificates draft, §4.3–4.4): inclusion of a leaf in a
/// subtree `[start, end)`, and consistency of that subtree with a tree of `size` leaves. A valid
/// subtree is non-empty and `start` is a multiple of the smallest power of two ≥ `end − start`.
public enum SubtreeVerifier {
  /// Whether `[start, end)` is a valid subtree.
  public static func isValid(start: Int64, end: Int64) -> Bool {
    guard start >= 0, start < end else { return false }
    // `end - start` cannot overflow: both are non-negative.
    let width = UInt64(end - start)
    // The smallest power of two ≥ width; widths above 2^62 are no subtree of any real log.
    guard width <= 1 << 62 else { return false }
    let ceiling: UInt64 = width == 1 ? 1 : 1 << (64 - (width - 1).leadingZeroBitCount)
    return UInt64(start) % ceiling == 0
  }

  /// Checks that `leafHash` is leaf `index` of the subtree `[start, end)` whose hash is `subtreeHash`.
  public static func verifyInclusion(
    index: Int64,
    start: Int64,
    end: Int64,
    leafHash: [UInt8],
    proof: [[UInt8]],
    subtreeHash: [UInt8]
  ) throws {
    guard Self.isValid(start: start, end: end) else { throw ProofError("not a valid subtree") }
    guard index >= start, index < end else { throw ProofError("the leaf is outside the subtree") }
    try MerkleVerifier.verifyInclusion(
      index: index - start,
      size: end - start,
      leafHash: leafHash,
      proof: proof,
      root: subtreeHash
    )
  }

  /// Checks that the subtree `[start, end)` with hash `subtreeHash` is part of the tree of `size`
  /// leaves with root `root`.
  public static func verifyConsistency(
    start: Int64,
    end: Int64,
    size: Int64,
    proof: [[UInt8]],
    subtreeHash: [UInt8],
    root: [UInt8]
  ) throws {
    // An empty subtree is part of every tree: nothing to prove beyond its hash being the empty one.
    if start == end {
      guard start >= 0, end <= size, proof.isEmpty, subtreeHash == RFC6962.emptyRoot else {
        throw ProofError("an empty subtree needs the empty hash and an empty proof")
      }
      return
    }
    // The whole tree: nothing to prove beyond equal hashes.
    if start == 0, end == size {
      guard proof.isEmpty, subtreeHash == root else {
        throw ProofError("the whole tree needs equal hashes and an empty proof")
      }
      return
    }
    guard Self.isValid(start: start, end: end), end <= size else {
      throw ProofError("not a valid subtree of the tree")
    }
    guard subtreeHash.count == 32, root.count == 32, proof.allSatisfy({ $0.count == 32 }) else {
      throw ProofError("hashes must be 32 bytes")
    }
    var fn = start
    var sn = end - 1
    var tn = size - 1
    if sn == tn {
      while fn != sn {
        fn >>= 1
        sn >>= 1
        tn >>= 1
      }
    } else {
      while fn != sn && sn & 1 == 1 {
        fn >>= 1
        sn >>= 1
        tn >>= 1
      }
    }
    var fr: [UInt8]
    var sr: [UInt8]
    var rest = proof[...]
    if fn == sn {
      fr = subtreeHash
      sr = subtreeHash
    } else {
      guard let first = rest.first else { throw ProofError("the proof is empty") }
      fr = first
      sr = first
      rest = rest.dropFirst()
    }
    for c in rest {
      guard tn != 0 else { throw ProofError("the proof is too long") }
      if sn & 1 == 1 || sn == tn {
        if fn < sn { fr = RFC6962.nodeHash(c, fr) }
        sr = RFC6962.nodeHash(c, sr)
        while sn & 1 == 0 && sn != 0 {
          fn >>= 1
          sn >>= 1
          tn >>= 1
        }
      } else {
        sr = RFC6962.nodeHash(sr, c)
      }
      fn >>= 1
      sn >>= 1
      tn >>= 1
    }
    guard tn == 0, fr == subtreeHash, sr == root else {
      throw ProofError("the proof does not verify")
    }
  }
}
