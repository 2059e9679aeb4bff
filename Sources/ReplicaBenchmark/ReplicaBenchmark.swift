import BenchmarkSupport
import Foundation
import Persistence
import PostgresStorage
import Tracking

/// Durable custody-logged events per second, and each write's latency, on the three backends
/// issue 18 compares, in one run on one machine: SQLite (the embedded default, group commit),
/// PostgreSQL with one replica (one pool), and PostgreSQL with two replicas (two pools on one
/// database, the writers split between them). Each writer registers a shipment (one event and
/// its custody leaf, one transaction) and then records its collection (a second event and
/// leaf, a second transaction) — both durable when they return (SQLite synchronous=FULL;
/// PostgreSQL synchronous_commit=on, fsync=on).
///
/// Usage: swift run -c release replica-benchmark --postgres-url postgres://… [--writers W]
///        [--shipments N] [--directory DIR]
/// (`scripts/replica-benchmark.sh` starts a throwaway cluster and runs it.)
@main
enum ReplicaBenchmark {
  static func main() async throws {
    var writers = 32
    var shipments = 4000
    var url: String?
    var directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "replica-benchmark-\(UUID().uuidString)"
    )
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
      switch argument {
      case "--writers": writers = Int(arguments.next() ?? "") ?? writers
      case "--shipments": shipments = Int(arguments.next() ?? "") ?? shipments
      case "--postgres-url": url = arguments.next()
      case "--directory": directory = arguments.next() ?? directory
      default: print("unknown argument \(argument)")
      }
    }
    print(
      "replica benchmark: \(writers) writers, \(shipments) shipments × 2 custody-logged events, each write durable"
    )
    print(
      "backend".padding(toLength: 34, withPad: " ", startingAt: 0)
        + "   events/s       p50       p90       p99"
    )

    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let sqlite = try SQLiteStorage.open(
      path: (directory as NSString).appendingPathComponent("bench.sqlite"),
      blobDirectory: (directory as NSString).appendingPathComponent("scans"),
      keys: EphemeralKeyEncryptionKeys()
    )
    try await Self.run(
      "SQLite (group commit)",
      replicas: [(sqlite.shipments, sqlite.custody)],
      writers: writers,
      shipments: shipments
    )
    guard let url else {
      print("(no --postgres-url: PostgreSQL not measured)")
      return
    }
    let admin = try PostgresLocation(url: url)
    let keys = EphemeralKeyEncryptionKeys()
    for replicaCount in [1, 2] {
      let name = "bench_\(replicaCount)_\(UUID().uuidString.prefix(8).lowercased())"
      let adminPool = try await PostgresPool.open(admin, maximumConnections: 1)
      try await adminPool.createDatabase(name)
      adminPool.close()
      var replicas: [(any ShipmentStore, any CustodyLogStore)] = []
      for _ in 0 ..< replicaCount {
        let pool = try await PostgresPool.open(
          admin.database(name),
          maximumConnections: 16 / replicaCount
        )
        try await PostgresSchema.migrate(pool)
        replicas.append(
          (
            PostgresShipmentStore(pool: pool, keys: keys, feed: ChangeFeed()),
            PostgresCustodyStore(pool: pool)
          )
        )
      }
      try await Self.run(
        "PostgreSQL, \(replicaCount) replica\(replicaCount == 1 ? "" : "s") × \(16 / replicaCount) conn.",
        replicas: replicas,
        writers: writers,
        shipments: shipments
      )
    }
  }

  /// Runs the workload with the writers spread over `replicas`; prints one row.
  static func run(
    _ label: String,
    replicas: [(shipments: any ShipmentStore, custody: any CustodyLogStore)],
    writers: Int,
    shipments: Int
  ) async throws {
    let perWriter = max(1, shipments / writers)
    let start = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
      for writer in 0 ..< writers {
        let store = replicas[writer % replicas.count].shipments
        group.addTask {
          var latencies: [Duration] = []
          for index in 0 ..< perWriter {
            let serial = writer * perWriter + index
            let clock = ContinuousClock()
            var began = clock.now
            let shipment = try await Benchmark.register(serial, in: store)
            latencies.append(began.duration(to: clock.now))
            began = clock.now
            try await Self.collect(shipment, in: store, key: "collect-\(serial)")
            latencies.append(began.duration(to: clock.now))
          }
          return latencies
        }
      }
      return try await group.reduce(into: [Duration]()) { $0 += $1 }
    }
    let seconds = Benchmark.seconds(start.duration(to: .now))
    let size = try await replicas[0].custody.treeSize()
    precondition(size == Int64(latencies.count), "every event has its leaf, once")
    let sorted = latencies.sorted()
    func ms(_ q: Double) -> Double { Benchmark.milliseconds(sorted, at: q) }
    print(
      String(
        format: "%@ %10.0f %7.2f ms %7.2f ms %7.2f ms",
        label.padding(toLength: 34, withPad: " ", startingAt: 0),
        Double(latencies.count) / seconds,
        ms(0.5),
        ms(0.9),
        ms(0.99)
      )
    )
  }

  /// Records the shipment's collection: its second event and custody leaf.
  static func collect(_ shipment: Shipment, in store: any ShipmentStore, key: String) async throws {
    guard let stored = try await store.shipmentWithCommitment(shipment.trackingNumber) else {
      throw TrackingError.shipmentNotFound()
    }
    var lifecycle = ShipmentLifecycle(state: stored.shipment.state)
    guard case .moved(let from, let to) = lifecycle.apply(.collected) else {
      throw TrackingError.illegalTransition(.collected, in: stored.shipment.state)
    }
    let event = ShipmentEvent(
      sequence: stored.shipment.version + 1,
      kind: .collected,
      fromState: from,
      toState: to,
      occurredAt: stored.shipment.updatedAt,
      recordedAt: stored.shipment.updatedAt.advanced(by: .seconds(1)),
      actor: "spiffe://benchmark/staff/250000/bench",
      location: stored.shipment.originPostOffice,
      note: nil
    )
    _ = try await store.commit(
      ShipmentWriter(timekeeper: nil).write(
        appending: [event],
        to: stored,
        idempotencyKey: IdempotencyKey(
          requestID: try RequestID(validating: key),
          caller: "spiffe://benchmark/staff/250000/bench",
          fingerprint: [1]
        ),
        now: event.recordedAt
      )
    )
  }
}
