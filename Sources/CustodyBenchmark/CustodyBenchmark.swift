import BenchmarkSupport
import Foundation
@_spi(Benchmark) import Persistence
import Tracking

/// Measures the custody log on a real SQLite file: appends per second (with events, one durable
/// transaction each, as the service does; and in bulk), and proof latency at 1,000,000 entries
/// for the service's method (one planned query per proof) beside two baselines (one query per
/// node; rebuilding the root from every leaf).
///
/// Then concurrent durable appends: `--writers` tasks registering at once, with one transaction
/// per write (the baseline), and with group commit without and with a wait.
///
/// Usage: swift run -c release custody-benchmark [--entries N] [--proofs K] [--directory DIR]
///        [--writers W] [--concurrent-writes C]
@main
enum CustodyBenchmark {
  static func main() async throws {
    var entries = 1_000_000
    var proofs = 2000
    var writers = 64
    var concurrentWrites = 20_000
    var directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "custody-benchmark-\(UUID().uuidString)"
    )
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
      switch argument {
      case "--entries": entries = Int(arguments.next() ?? "") ?? entries
      case "--proofs": proofs = Int(arguments.next() ?? "") ?? proofs
      case "--directory": directory = arguments.next() ?? directory
      case "--writers": writers = Int(arguments.next() ?? "") ?? writers
      case "--concurrent-writes": concurrentWrites = Int(arguments.next() ?? "") ?? concurrentWrites
      default: print("unknown argument \(argument)")
      }
    }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = (directory as NSString).appendingPathComponent("bench.sqlite")
    let stores = try SQLiteStorage.open(
      path: path,
      blobDirectory: (directory as NSString).appendingPathComponent("scans"),
      keys: EphemeralKeyEncryptionKeys()
    )
    let fixtures = try SQLiteBenchmarkFixtures(path: path)
    let log = CustodyLog(origin: "benchmark/custody", store: stores.custody)
    print(
      "custody log benchmark: \(entries) entries, \(proofs) proofs per method, SQLite in \(directory)"
    )

    // 1. Durable appends as the service does them: a registration (one event, one leaf) per
    //    transaction, synchronous=FULL.
    let durable = 1000
    var start = ContinuousClock.now
    var anyNumber: TrackingNumber?
    for index in 0 ..< durable {
      anyNumber = try await Benchmark.register(index, in: stores).trackingNumber
    }
    let durableSeconds = Benchmark.seconds(start.duration(to: .now))
    print(
      String(
        format: "durable appends (registration + leaf, one fsynced transaction each): %8.0f /s",
        Double(durable) / durableSeconds
      )
    )

    // 1b. Concurrent durable appends: what group commit is for.
    for (label, settings) in [
      ("one transaction per write", GroupCommitSettings.off),
      ("group commit, no wait", GroupCommitSettings(maximumWait: .zero)),
      ("group commit, 1 ms wait", GroupCommitSettings(maximumWait: .milliseconds(1))),
    ] {
      let rate = try await Self.concurrentAppends(
        writers: writers,
        total: concurrentWrites,
        settings: settings,
        directory: (directory as NSString).appendingPathComponent(UUID().uuidString)
      )
      print(
        String(
          format: "durable appends, %d writers, %@: %8.0f /s",
          writers,
          label.padding(toLength: 25, withPad: " ", startingAt: 0),
          rate
        )
      )
    }

    // 2. Bulk: the rest of the leaves in transactions of 10,000.
    let number = anyNumber!  // durable > 0
    let leaf = Array(repeating: UInt8(ascii: "x"), count: 300)
    start = ContinuousClock.now
    var appended = try await log.treeSize()
    while appended < Int64(entries) {
      let batch = min(10_000, Int64(entries) - appended)
      try await fixtures.appendRawLeaves(
        (0 ..< batch).map { leaf + Array(String(appended + $0).utf8) },
        shipment: number
      )
      appended += batch
    }
    let bulkSeconds = Benchmark.seconds(start.duration(to: .now))
    let size = try await log.treeSize()
    print(
      String(
        format: "bulk appends (10,000 leaves per transaction):                       %8.0f /s",
        Double(size - Int64(durable)) / bulkSeconds
      )
    )

    // 3. Proof latency at `size` entries.
    var generator = SystemRandomNumberGenerator()
    let indexes = (0 ..< proofs).map { _ in Int64.random(in: 0 ..< size, using: &generator) }
    let root = try await log.root(size: size)
    var planned: [Duration] = []
    for index in indexes {
      let t = ContinuousClock.now
      let proof = try await log.inclusionProof(index: index, size: size)
      planned.append(t.duration(to: .now))
      if index == indexes[0] {
        let data = try await log.entries(start: index, count: 1)[0]
        try MerkleVerifier.verifyInclusion(
          index: index,
          size: size,
          leafHash: RFC6962.leafHash(data),
          proof: proof,
          root: root
        )
      }
    }
    var oneByOne: [Duration] = []
    for index in indexes {
      let t = ContinuousClock.now
      var nodes: [NodeID: [UInt8]] = [:]
      for id in MerkleProofBuilder.nodes(forInclusion: index, size: size) {
        nodes[id] = try await fixtures.node(id)
      }
      _ = MerkleProofBuilder.inclusionProof(index: index, size: size) { nodes[$0] ?? [] }
      oneByOne.append(t.duration(to: .now))
    }
    var consistency: [Duration] = []
    for index in indexes.prefix(proofs / 4) {
      let t = ContinuousClock.now
      _ = try await log.consistencyProof(first: max(1, index), second: size)
      consistency.append(t.duration(to: .now))
    }
    start = ContinuousClock.now
    var rebuilt = try await Self.rebuildRoot(log: log, size: size)
    let rebuildTime = start.duration(to: .now)
    precondition(rebuilt == root, "the rebuilt root matches")
    rebuilt = []

    print("")
    print("proof latency at \(size) entries        p50        p90        p99")
    Benchmark.row("inclusion, one planned query", planned)
    Benchmark.row("inclusion, one query per node", oneByOne)
    Benchmark.row("consistency, one planned query", consistency)
    print(
      String(
        format: "baseline: root rebuilt from every leaf: %.2f s (once)",
        Benchmark.seconds(rebuildTime)
      )
    )
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Registrations (one event and one custody leaf each, synchronous = FULL) from `writers`
  /// concurrent tasks on a fresh file; returns registrations per second.
  static func concurrentAppends(
    writers: Int,
    total: Int,
    settings: GroupCommitSettings,
    directory: String
  ) async throws -> Double {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let stores = try SQLiteStorage.open(
      path: (directory as NSString).appendingPathComponent("bench.sqlite"),
      blobDirectory: (directory as NSString).appendingPathComponent("scans"),
      keys: EphemeralKeyEncryptionKeys(),
      groupCommit: settings
    )
    let perWriter = max(1, total / writers)
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
      for writer in 0 ..< writers {
        group.addTask {
          for index in 0 ..< perWriter {
            _ = try await Benchmark.register(writer * perWriter + index, in: stores)
          }
        }
      }
      try await group.waitForAll()
    }
    let seconds = Benchmark.seconds(start.duration(to: .now))
    let size = try await stores.custody.treeSize()
    precondition(size == Int64(writers * perWriter), "every registration has its leaf")
    return Double(writers * perWriter) / seconds
  }

  static func rebuildRoot(log: CustodyLog, size: Int64) async throws -> [UInt8] {
    var stack: [(Int, [UInt8])] = []  // (height, hash) of complete subtrees, left to right
    var start: Int64 = 0
    while start < size {
      for data in try await log.entries(start: start, count: 1000) {
        var node = (0, RFC6962.leafHash(data))
        while let last = stack.last, last.0 == node.0 {
          stack.removeLast()
          node = (node.0 + 1, RFC6962.nodeHash(last.1, node.1))
        }
        stack.append(node)
      }
      start += 1000
    }
    var root = stack.removeLast().1
    while let left = stack.popLast() { root = RFC6962.nodeHash(left.1, root) }
    return root
  }
}
