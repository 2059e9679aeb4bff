import Foundation
import Histogram

/// A load run's figures, printed for people or as JSON for scripts (and read back as a
/// baseline).
struct LoadReport: Codable, Sendable, Equatable {
  /// Latency percentiles in milliseconds, from the HDR histogram.
  struct Latencies: Codable, Sendable, Equatable {
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var mean: Double
  }

  /// This run against a baseline run (the echo server's): throughput, p99 and CPU per call.
  struct Ratios: Codable, Sendable, Equatable {
    var baselineWorkload: String
    var callsPerSecond: Double
    var p99: Double
    var serverCPUPerCall: Double?
  }

  var workload: String
  var connections: Int
  var streams: Int
  var offeredRate: Double?
  var seconds: Double
  var calls: Int
  var succeeded: Int
  var failures: [String: Int]
  var callsPerSecond: Double
  var latencyMilliseconds: Latencies
  var serverCPUSeconds: Double?
  var serverCPUMicrosecondsPerCall: Double?
  var serverPeakRSSMegabytes: Double?
  var clientCPUSeconds: Double
  var ratioToBaseline: Ratios?

  init(
    plan: LoadPlan,
    tally: StreamTally,
    seconds: Double,
    window: LoadWindowObserver.Figures?
  ) {
    let histogram = tally.latencies
    func milliseconds(_ micros: UInt64) -> Double { Double(micros) / 1000 }
    self.workload = plan.workload.rawValue
    self.connections = plan.connections
    self.streams = plan.streams
    self.offeredRate = plan.rate
    self.seconds = seconds
    self.calls = Int(histogram.totalCount)
    self.succeeded = tally.succeeded
    self.failures = tally.failures
    self.callsPerSecond = seconds > 0 ? Double(self.calls) / seconds : 0
    self.latencyMilliseconds = Latencies(
      p50: milliseconds(histogram.valueAtPercentile(50)),
      p90: milliseconds(histogram.valueAtPercentile(90)),
      p99: milliseconds(histogram.valueAtPercentile(99)),
      p999: milliseconds(histogram.valueAtPercentile(99.9)),
      max: milliseconds(histogram.max),
      mean: histogram.totalCount == 0 ? 0 : histogram.mean / 1000
    )
    self.serverCPUSeconds = window?.serverCPUSeconds
    let calls = self.calls
    self.serverCPUMicrosecondsPerCall = window?.serverCPUSeconds.flatMap {
      calls > 0 ? $0 * 1e6 / Double(calls) : nil
    }
    self.serverPeakRSSMegabytes = window?.serverPeakRSSBytes.map { Double($0) / 1_048_576 }
    self.clientCPUSeconds = window?.clientCPUSeconds ?? 0
  }

  /// Sets the ratios to a baseline run.
  mutating func compare(to baseline: LoadReport) {
    self.ratioToBaseline = Ratios(
      baselineWorkload: baseline.workload,
      callsPerSecond: baseline.callsPerSecond > 0
        ? self.callsPerSecond / baseline.callsPerSecond : 0,
      p99: baseline.latencyMilliseconds.p99 > 0
        ? self.latencyMilliseconds.p99 / baseline.latencyMilliseconds.p99 : 0,
      serverCPUPerCall: self.serverCPUMicrosecondsPerCall.flatMap { mine in
        baseline.serverCPUMicrosecondsPerCall.flatMap { $0 > 0 ? mine / $0 : nil }
      }
    )
  }

  /// The report as one JSON object.
  func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// Reads a report written by `--json`.
  static func read(_ path: String) throws -> LoadReport {
    try JSONDecoder().decode(LoadReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// The report for people.
  var text: String {
    func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
    let latency = self.latencyMilliseconds
    var lines = [
      "\(self.workload): \(self.connections) connections × \(self.streams) streams"
        + (self.offeredRate.map { ", offered \(f($0, 0)) calls/s" } ?? "")
        + ", \(f(self.seconds, 1)) s",
      "  calls \(self.calls), ok \(self.succeeded)"
        + (self.failures.isEmpty
          ? ""
          : ", failed "
            + self.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
              separator: ", "
            )),
      "  throughput \(f(self.callsPerSecond, 1)) calls/s",
      "  latency ms  p50 \(f(latency.p50, 3))  p90 \(f(latency.p90, 3))  p99 \(f(latency.p99, 3))"
        + "  p99.9 \(f(latency.p999, 3))  max \(f(latency.max, 3))  mean \(f(latency.mean, 3))",
    ]
    if let cpu = self.serverCPUSeconds, let perCall = self.serverCPUMicrosecondsPerCall {
      lines.append(
        "  server CPU \(f(cpu)) s (\(f(perCall, 0)) µs per call), peak RSS "
          + (self.serverPeakRSSMegabytes.map { "\(f($0, 1)) MB" } ?? "?")
      )
    }
    lines.append("  load tool CPU \(f(self.clientCPUSeconds)) s")
    if let ratio = self.ratioToBaseline {
      lines.append(
        "  against \(ratio.baselineWorkload): throughput × \(f(ratio.callsPerSecond)), p99 × \(f(ratio.p99))"
          + (ratio.serverCPUPerCall.map { ", server CPU per call × \(f($0))" } ?? "")
      )
    }
    return lines.joined(separator: "\n")
  }
}
