import BenchmarkSupport
import Foundation
@_spi(Benchmark) import Persistence
import Tracking

/// Measures finding the at-risk set among open shipments on a real SQLite file: the service's
/// indexed lookups (the at-risk count and one monitor pass) beside a full scan of the open
/// hops, in the same run.
///
/// Usage: swift run -c release sla-benchmark [--shipments N] [--runs K] [--directory DIR]
@main
enum SlaBenchmark {
  static func main() async throws {
    var shipments = 1_000_000
    var runs = 200
    var directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "sla-benchmark-\(UUID().uuidString)"
    )
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
      switch argument {
      case "--shipments": shipments = Int(arguments.next() ?? "") ?? shipments
      case "--runs": runs = Int(arguments.next() ?? "") ?? runs
      case "--directory": directory = arguments.next() ?? directory
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
    let store = stores.sla
    let fixtures = try SQLiteBenchmarkFixtures(path: path)
    print("service-level benchmark: \(shipments) open shipments, SQLite in \(directory)")

    // One real registration, cloned; each clone's agency processing runs, its at-risk times
    // spread over 30 days from `base`.
    let template = try await Benchmark.register(0, in: stores)
    let base = Timestamp(microseconds: 1_772_409_600_000_000)  // 2026-03-02 00:00 UTC
    let spread: Int64 = 30 * 86_400 * 1_000_000
    var generator = SystemRandomNumberGenerator()
    var start = ContinuousClock.now
    var serial = 1
    while serial <= shipments {
      let numbers = (serial ..< min(serial + 10_000, shipments + 1)).map {
        TrackingNumber(serviceIndicator: template.trackingNumber.serviceIndicator, serial: $0 + 1)
      }
      try await fixtures.cloneForBenchmark(template.trackingNumber, as: numbers)
      try await fixtures.insertForBenchmark(
        numbers.map { number in
          let atRisk = base.advanced(
            by: .microseconds(Int64.random(in: 0 ..< spread, using: &generator))
          )
          return Self.hop(number, template: template, atRisk: atRisk)
        }
      )
      serial += numbers.count
    }
    print(
      String(
        format: "filled %d shipments with running hops in %.1f s",
        shipments,
        Benchmark.seconds(start.duration(to: .now))
      )
    )
    print("plan: \(try await fixtures.atRiskPlan())")

    // "Now" 0.3 days into the spread: about 1% of the hops are at risk.
    let now = base.advanced(by: .seconds(Int64(0.3 * 86_400)))
    var indexed: [Duration] = []
    var scanned: [Duration] = []
    var atRisk = 0
    for _ in 0 ..< runs {
      var t = ContinuousClock.now
      atRisk = try await store.atRiskCount(now: now)
      indexed.append(t.duration(to: .now))
      t = ContinuousClock.now
      let baseline = try await fixtures.atRiskCountByScan(now: now)
      scanned.append(t.duration(to: .now))
      precondition(baseline == atRisk, "both ways find the same set")
    }
    print("")
    print("at-risk set (\(atRisk) of \(shipments))      p50        p90        p99")
    Benchmark.row("indexed (the service)", indexed)
    Benchmark.row("baseline: scan of open hops", scanned)

    // The monitor: the first pass raises the backlog in batches; later passes find nothing.
    start = ContinuousClock.now
    var raised = 0
    while true {
      let batch = try await store.raiseDueAlerts(now: now, limit: 1000).count
      raised += batch
      if batch < 1000 { break }
    }
    print(
      String(
        format:
          "\nmonitor: first pass raised %d alerts in %.2f s (%.0f alerts/s, one transaction per 1,000)",
        raised,
        Benchmark.seconds(start.duration(to: .now)),
        Double(raised) / Benchmark.seconds(start.duration(to: .now))
      )
    )
    var idle: [Duration] = []
    for _ in 0 ..< runs {
      let t = ContinuousClock.now
      let none = try await store.raiseDueAlerts(now: now, limit: 1000)
      idle.append(t.duration(to: .now))
      precondition(none.isEmpty, "alerts are raised once")
    }
    print("monitor pass, nothing due           p50        p90        p99")
    Benchmark.row("indexed (the service)", idle)
    try? FileManager.default.removeItem(atPath: directory)
  }

  static func hop(_ number: TrackingNumber, template: Shipment, atRisk: Timestamp) -> HopTimeliness
  {
    let due = atRisk.advanced(by: .seconds(86_400))
    return HopTimeliness(
      trackingNumber: number,
      hop: .agencyProcessing,
      startSequence: 1,
      startKind: .agencyAccepted,
      startedAt: atRisk.advanced(by: .seconds(-3 * 86_400)),
      workingDays: 3,
      countedFrom: atRisk.dateInVietnam.adding(days: -3),
      due: due.dateInVietnam,
      dueAt: due,
      atRiskAt: atRisk,
      calendarVersions: ["benchmark"],
      provisional: false,
      policyVersion: "benchmark",
      routeClass: nil,
      appointmentSlip: false,
      endSequence: nil,
      endedAt: nil,
      verdict: nil,
      stoppedBy: nil,
      workingMinutes: nil,
      agency: template.destinationAgency,
      postOffice: template.originPostOffice,
      procedure: template.procedure,
      steps: []
    )
  }
}
