import Crypto
import Foundation
import Testing
import Tracking

/// The transparency-dev/merkle probe files, copied into the test bundle's resources.
enum MerkleProbes {
  static let root: URL = {
    // The folder is declared as a resource of this test target; it is always there.
    Bundle.module.url(forResource: "merkle", withExtension: nil)!
  }()

  static func files(_ kind: String) -> [URL] {
    let folder = Self.root.appendingPathComponent(kind)
    guard
      let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
    else {
      return []
    }
    return enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }
      .sorted { $0.path < $1.path }
  }

  struct Inclusion: Decodable {
    var leafIdx: UInt64
    var treeSize: UInt64
    var root: String?
    var leafHash: String?
    var proof: [String]?
    var wantErr: Bool
  }

  struct Consistency: Decodable {
    var size1: UInt64
    var size2: UInt64
    var root1: String?
    var root2: String?
    var proof: [String]?
    var wantErr: Bool
  }

  struct SubtreeInclusion: Decodable {
    var leafIdx: UInt64
    var start: UInt64
    var end: UInt64
    var root: String?
    var leafHash: String?
    var proof: [String]?
    var wantErr: Bool
  }

  struct SubtreeConsistency: Decodable {
    var start: UInt64
    var end: UInt64
    var size: UInt64
    var root1: String?
    var root2: String?
    var proof: [String]?
    var wantErr: Bool
  }

  static func bytes(_ text: String?) -> [UInt8] {
    guard let text else { return [] }
    // Probes hold standard base64; a few corruptions are not valid base64 and count as garbage.
    return Array(Data(base64Encoded: text) ?? Data(text.utf8))
  }
}

@Suite("RFC 6962 Merkle proofs")
struct MerkleTests {
  @Test("the probe files are in the test bundle")
  func probesArePresent() {
    #expect(
      !MerkleProbes.files("inclusion").isEmpty,
      "no probes under \(MerkleProbes.root.path)"
    )
  }

  @Test("inclusion probes: exactly the files with wantErr false verify")
  func inclusionProbes() throws {
    let files = MerkleProbes.files("inclusion")
    var checked = 0
    for file in files {
      let probe = try JSONDecoder().decode(
        MerkleProbes.Inclusion.self,
        from: Data(contentsOf: file)
      )
      let verified =
        (try? MerkleVerifier.verifyInclusion(
          index: Self.clamp(probe.leafIdx),
          size: Self.clamp(probe.treeSize),
          leafHash: MerkleProbes.bytes(probe.leafHash),
          proof: (probe.proof ?? []).map(MerkleProbes.bytes),
          root: MerkleProbes.bytes(probe.root)
        )) != nil
      #expect(
        verified == !probe.wantErr,
        "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)"
      )
      checked += 1
    }
    #expect(checked > 50)
  }

  @Test("consistency probes: exactly the files with wantErr false verify")
  func consistencyProbes() throws {
    var checked = 0
    for file in MerkleProbes.files("consistency") {
      let probe = try JSONDecoder().decode(
        MerkleProbes.Consistency.self,
        from: Data(contentsOf: file)
      )
      let verified =
        (try? MerkleVerifier.verifyConsistency(
          size1: Self.clamp(probe.size1),
          size2: Self.clamp(probe.size2),
          proof: (probe.proof ?? []).map(MerkleProbes.bytes),
          root1: MerkleProbes.bytes(probe.root1),
          root2: MerkleProbes.bytes(probe.root2)
        )) != nil
      #expect(
        verified == !probe.wantErr,
        "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)"
      )
      checked += 1
    }
    #expect(checked > 50)
  }

  @Test("subtree inclusion probes: exactly the files with wantErr false verify")
  func subtreeInclusionProbes() throws {
    var checked = 0
    for file in MerkleProbes.files("subtreeinclusion") {
      let probe = try JSONDecoder().decode(
        MerkleProbes.SubtreeInclusion.self,
        from: Data(contentsOf: file)
      )
      let verified =
        (try? SubtreeVerifier.verifyInclusion(
          index: Self.clamp(probe.leafIdx),
          start: Self.clamp(probe.start),
          end: Self.clamp(probe.end),
          leafHash: MerkleProbes.bytes(probe.leafHash),
          proof: (probe.proof ?? []).map(MerkleProbes.bytes),
          subtreeHash: MerkleProbes.bytes(probe.root)
        )) != nil
      #expect(
        verified == !probe.wantErr,
        "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)"
      )
      checked += 1
    }
    #expect(checked > 20)
  }

  @Test("subtree consistency probes: exactly the files with wantErr false verify")
  func subtreeConsistencyProbes() throws {
    var checked = 0
    for file in MerkleProbes.files("subtreeconsistency") {
      let probe = try JSONDecoder().decode(
        MerkleProbes.SubtreeConsistency.self,
        from: Data(contentsOf: file)
      )
      let verified =
        (try? SubtreeVerifier.verifyConsistency(
          start: Self.clamp(probe.start),
          end: Self.clamp(probe.end),
          size: Self.clamp(probe.size),
          proof: (probe.proof ?? []).map(MerkleProbes.bytes),
          subtreeHash: MerkleProbes.bytes(probe.root1),
          root: MerkleProbes.bytes(probe.root2)
        )) != nil
      #expect(
        verified == !probe.wantErr,
        "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)"
      )
      checked += 1
    }
    #expect(checked > 20)
  }

  /// Probe sizes are unsigned 64-bit; ours are signed (a log never reaches 2⁶³ entries).
  static func clamp(_ value: UInt64) -> Int64 { Int64(exactly: value) ?? .max }

  @Test("the RFC 6962 reference roots for the eight reference leaves")
  func referenceRoots() {
    let leaves: [[UInt8]] = [
      [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
      [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
      [
        0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e,
        0x6f,
      ],
    ]
    let expectedPrefixes = [
      "6e340b9c", "fac54203", "aeb6bcfe", "d37ee418", "4e3bbb1f", "76e67dad", "ddb89be4",
      "5dc9da79",
    ]
    for size in 1 ... 8 {
      let root = Naive.root(leaves[0 ..< size].map(RFC6962.leafHash))
      #expect(hex(root).hasPrefix(expectedPrefixes[size - 1]), "size \(size)")
      let tree = MemoryTree(leaves: Array(leaves[0 ..< size]))
      #expect(tree.root(size: Int64(size)) == root)
    }
    #expect(
      hex(RFC6962.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
  }

  @Test(
    "proofs from stored subtrees match a naive recursive implementation, for every size up to 64 and random trees up to 1,000"
  )
  func againstNaive() throws {
    var generator = SplitMix(seed: 42)
    var sizes = Array(1 ... 64)
    for _ in 0 ..< 12 { sizes.append(Int.random(in: 65 ... 1000, using: &generator)) }
    for size in sizes {
      let leaves = (0 ..< size).map { _ in
        (0 ..< 8).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
      }
      let tree = MemoryTree(leaves: leaves)
      let hashes = leaves.map(RFC6962.leafHash)
      let indexes =
        size <= 64
        ? Array(0 ..< size) : (0 ..< 8).map { _ in Int.random(in: 0 ..< size, using: &generator) }
      for index in indexes {
        let n = Int64(size)
        // The proof for a random earlier tree size too.
        for treeSize in Set([size, Int.random(in: index + 1 ... size, using: &generator)]) {
          let proof = tree.inclusionProof(index: Int64(index), size: Int64(treeSize))
          #expect(
            proof == Naive.path(index, Array(hashes[0 ..< treeSize])),
            "size \(treeSize) leaf \(index)"
          )
          try MerkleVerifier.verifyInclusion(
            index: Int64(index),
            size: Int64(treeSize),
            leafHash: hashes[index],
            proof: proof,
            root: Naive.root(Array(hashes[0 ..< treeSize]))
          )
        }
        _ = n
      }
      for _ in 0 ..< (size <= 64 ? size : 8) {
        let size1 = Int.random(in: 1 ... size, using: &generator)
        let proof = tree.consistencyProof(size1: Int64(size1), size2: Int64(size))
        #expect(proof == Naive.consistency(size1, hashes), "sizes \(size1) → \(size)")
        try MerkleVerifier.verifyConsistency(
          size1: Int64(size1),
          size2: Int64(size),
          proof: proof,
          root1: Naive.root(Array(hashes[0 ..< size1])),
          root2: Naive.root(hashes)
        )
      }
    }
  }

  @Test("a proof needs O(log n) stored nodes")
  func logarithmicReads() {
    let size: Int64 = 1_000_003
    for index: Int64 in [0, 1, 500_000, 999_999, 1_000_002] {
      #expect(MerkleProofBuilder.nodes(forInclusion: index, size: size).count <= 2 * 20 + 2)
    }
    #expect(MerkleProofBuilder.nodes(forConsistency: 123_457, size).count <= 2 * 20 + 2)
  }

  @Test("a changed proof, leaf, index or root fails")
  func tamperedProofsFail() throws {
    let leaves = (0 ..< 37).map { [UInt8(truncatingIfNeeded: $0)] }
    let tree = MemoryTree(leaves: leaves)
    let root = tree.root(size: 37)
    var proof = tree.inclusionProof(index: 11, size: 37)
    try MerkleVerifier.verifyInclusion(
      index: 11,
      size: 37,
      leafHash: RFC6962.leafHash(leaves[11]),
      proof: proof,
      root: root
    )
    #expect(throws: ProofError.self) {
      try MerkleVerifier.verifyInclusion(
        index: 12,
        size: 37,
        leafHash: RFC6962.leafHash(leaves[11]),
        proof: proof,
        root: root
      )
    }
    proof[2][0] ^= 1
    #expect(throws: ProofError.self) {
      try MerkleVerifier.verifyInclusion(
        index: 11,
        size: 37,
        leafHash: RFC6962.leafHash(leaves[11]),
        proof: proof,
        root: root
      )
    }
  }
}

/// Complete subtrees of an in-memory tree, built with the same appender the store uses.
struct MemoryTree {
  var nodes: [NodeID: [UInt8]] = [:]

  init(leaves: [[UInt8]]) {
    for (index, leaf) in leaves.enumerated() {
      let added = MerkleAppender.nodesAdded(index: Int64(index), leafHash: RFC6962.leafHash(leaf)) {
        self.nodes[$0]!
      }
      for (id, hash) in added { self.nodes[id] = hash }
    }
  }

  func root(size: Int64) -> [UInt8] { MerkleProofBuilder.root(size: size) { self.nodes[$0]! } }

  func inclusionProof(index: Int64, size: Int64) -> [[UInt8]] {
    let needed = Set(MerkleProofBuilder.nodes(forInclusion: index, size: size))
    return MerkleProofBuilder.inclusionProof(index: index, size: size) { id in
      precondition(needed.contains(id), "the plan lists every node the proof reads")
      return self.nodes[id]!
    }
  }

  func consistencyProof(size1: Int64, size2: Int64) -> [[UInt8]] {
    let needed = Set(MerkleProofBuilder.nodes(forConsistency: size1, size2))
    return MerkleProofBuilder.consistencyProof(size1: size1, size2: size2) { id in
      precondition(needed.contains(id), "the plan lists every node the proof reads")
      return self.nodes[id]!
    }
  }
}

/// RFC 6962 §2.1 written as literally as possible, over leaf hashes.
enum Naive {
  static func split(_ n: Int) -> Int {
    var k = 1
    while k * 2 < n { k *= 2 }
    return k
  }

  static func root(_ hashes: [[UInt8]]) -> [UInt8] {
    switch hashes.count {
    case 0: return Array(SHA256.hash(data: [UInt8]()))
    case 1: return hashes[0]
    default:
      let k = Self.split(hashes.count)
      return RFC6962.nodeHash(Self.root(Array(hashes[..<k])), Self.root(Array(hashes[k...])))
    }
  }

  static func path(_ m: Int, _ hashes: [[UInt8]]) -> [[UInt8]] {
    let n = hashes.count
    if n == 1 { return [] }
    let k = Self.split(n)
    if m < k { return Self.path(m, Array(hashes[..<k])) + [Self.root(Array(hashes[k...]))] }
    return Self.path(m - k, Array(hashes[k...])) + [Self.root(Array(hashes[..<k]))]
  }

  static func consistency(_ m: Int, _ hashes: [[UInt8]]) -> [[UInt8]] {
    m == hashes.count ? [] : Self.subproof(m, hashes, true)
  }

  static func subproof(_ m: Int, _ hashes: [[UInt8]], _ b: Bool) -> [[UInt8]] {
    let n = hashes.count
    if m == n { return b ? [] : [Self.root(hashes)] }
    let k = Self.split(n)
    if m <= k { return Self.subproof(m, Array(hashes[..<k]), b) + [Self.root(Array(hashes[k...]))] }
    return Self.subproof(m - k, Array(hashes[k...]), false) + [Self.root(Array(hashes[..<k]))]
  }
}

struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { self.state = seed }
  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
