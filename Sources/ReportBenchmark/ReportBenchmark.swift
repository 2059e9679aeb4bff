import BenchmarkSupport
import Foundation
@_spi(Benchmark) import Persistence
import Tracking

/// Measures the oversight reports over a year of 1,000,000 shipments on a real SQLite file: the
/// service's grouped queries (GetIndicators by agency and by post office, the three queries of
/// GetScores, staff productivity) beside the same indicators computed by reading the year into
/// memory, in the same run.
///
/// Usage: swift run -c release report-benchmark [--shipments N] [--runs K] [--directory DIR] [--keep]
@main
enum ReportBenchmark {
  static func main() async throws {
    var shipments = 1_000_000
    var runs = 5
    var keep = false
    var directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "report-benchmark-\(UUID().uuidString)"
    )
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
      switch argument {
      case "--shipments": shipments = Int(arguments.next() ?? "") ?? shipments
      case "--runs": runs = Int(arguments.next() ?? "") ?? runs
      case "--directory": directory = arguments.next() ?? directory
      case "--keep": keep = true
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
    print("report benchmark: \(shipments) shipments over a year, SQLite in \(directory)")

    let template = try await Benchmark.register(0, in: stores)
    let start = Timestamp(microseconds: 1_767_200_400_000_000)  // 2026-01-01 00:00 Vietnam
    let end = start.advanced(by: .seconds(365 * 86_400))
    let fill = ContinuousClock.now
    try await fixtures.fillReportYear(
      template: template.trackingNumber,
      count: shipments,
      start: start,
      agencies: 40,
      offices: 300
    )
    print(
      String(
        format: "filled %d shipments (events, scans, handoffs, ratings, hops) in %.1f s",
        shipments,
        Benchmark.seconds(fill.duration(to: .now))
      )
    )

    func time(_ body: () async throws -> Void) async throws -> [Duration] {
      var samples: [Duration] = []
      for _ in 0 ..< runs {
        let t = ContinuousClock.now
        try await body()
        samples.append(t.duration(to: .now))
      }
      return samples
    }
    var byAgency: [IndicatorCounts] = []
    let agency = try await time {
      byAgency = try await stores.indicators.indicators(
        registeredFrom: start,
        before: end,
        grouping: .agency
      )
    }
    let office = try await time {
      _ = try await stores.indicators.indicators(
        registeredFrom: start,
        before: end,
        grouping: .postOffice
      )
    }
    var scored = 0
    let scores = try await time {
      // As GetScores runs them: three concurrent reads.
      async let tallies = stores.indicators.scoreTallies(
        processedFrom: start,
        before: end,
        grouping: .agency,
        now: end
      )
      async let legs = stores.indicators.postalLegs(
        endedFrom: start,
        before: end,
        grouping: .agency
      )
      async let counts = stores.indicators.shareCounts(
        registeredFrom: start,
        before: end,
        grouping: .agency
      )
      let (scoredTallies, _, _) = try await (tallies, legs, counts)
      scored = scoredTallies.reduce(0) { $0 + $1.dossiers }
    }
    let staff = try await time {
      _ = try await stores.indicators.staffTallies(occurredFrom: start, before: end)
    }
    var loaded: [IndicatorCounts] = []
    let baseline = try await time {
      loaded = try await fixtures.indicatorsByLoading(from: start, before: end)
    }
    precondition(loaded == byAgency, "both ways give the same indicators")
    let received = byAgency.reduce(0) { $0 + $1.received }
    precondition(received >= shipments, "the year is there: \(received)")
    print("")
    print("a year's report (\(received) shipments, \(scored) scored)  p50        p90        p99")
    Benchmark.row("GetIndicators by agency", agency)
    Benchmark.row("GetIndicators by post office", office)
    Benchmark.row("GetScores (three queries)", scores)
    Benchmark.row("GetStaffProductivity", staff)
    Benchmark.row("baseline: year read into memory", baseline)
    if !keep { try? FileManager.default.removeItem(atPath: directory) }
  }
}
