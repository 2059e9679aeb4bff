import GRPCCore
import GRPCNIOTransportHTTP2
import Histogram
import Synchronization

/// How much load, for how long.
struct LoadPlan: Sendable {
  /// The calls.
  var workload: LoadWorkload
  /// TCP connections (one gRPC client each).
  var connections: Int
  /// Calls in flight on each connection.
  var streams: Int
  /// The measured window (ignored when `requests` is set).
  var duration: Duration
  /// Calls before the measured window, not counted (connections warm, caches filled).
  var warmup: Duration
  /// Stop after this many measured calls instead of after `duration`.
  var requests: Int?
  /// Offered load in calls per second over all streams; `nil` sends each call as soon as the
  /// previous one of its stream is answered (closed loop).
  var rate: Double?
}

/// What one stream saw: latencies (µs) and failures by status.
struct StreamTally: Sendable {
  var latencies = Histogram<UInt64>(
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: .three
  )
  var failures: [String: Int] = [:]
  var succeeded = 0
  var lastCompletion: ContinuousClock.Instant?

  mutating func merge(_ other: StreamTally) {
    self.latencies.add(other.latencies)
    self.failures.merge(other.failures, uniquingKeysWith: +)
    self.succeeded += other.succeeded
    if let last = other.lastCompletion {
      self.lastCompletion = max(self.lastCompletion ?? last, last)
    }
  }
}

/// Runs a plan's streams over the clients and tallies their calls.
///
/// Latency runs from the moment a call was due to its answer: with an offered rate a call that
/// starts late because the server is behind counts its wait (no coordinated omission).
struct LoadRunner: Sendable {
  let plan: LoadPlan

  /// Prepares every stream's call, then runs them all in one measured window.
  /// - Parameters:
  ///   - clients: One per connection.
  ///   - prepare: Makes stream `index`'s call over a client (outside the window).
  ///   - window: Samples the server over the window (cancelled when the last stream ends).
  func run(
    clients: [GRPCClient<HTTP2ClientTransport.Posix>],
    prepare:
      @escaping @Sendable (Int, GRPCClient<HTTP2ClientTransport.Posix>) async throws -> LoadCall,
    window: LoadWindowObserver
  ) async throws -> (tally: StreamTally, seconds: Double) {
    let streamCount = self.plan.connections * self.plan.streams
    let calls = try await withThrowingTaskGroup(of: (Int, LoadCall).self) { group in
      for index in 0 ..< streamCount {
        let client = clients[index % clients.count]
        group.addTask { (index, try await prepare(index, client)) }
      }
      var calls: [LoadCall?] = Array(repeating: nil, count: streamCount)
      for try await (index, call) in group { calls[index] = call }
      return calls.compactMap { $0 }
    }
    let start = ContinuousClock.now
    let measuredFrom = self.plan.requests == nil ? start.advanced(by: self.plan.warmup) : start
    let end: ContinuousClock.Instant? =
      self.plan.requests == nil ? measuredFrom.advanced(by: self.plan.duration) : nil
    let budget = Budget(self.plan.requests ?? .max)
    let interval = self.plan.rate.map { Duration.seconds(Double(streamCount) / $0) }
    let tally = try await withThrowingTaskGroup(of: StreamTally?.self) { group in
      group.addTask {
        await window.sample(from: measuredFrom)
        return nil
      }
      for (index, call) in calls.enumerated() {
        // Spread the streams' first calls over one interval when pacing.
        let offset = interval.map { $0 * (Double(index) / Double(streamCount)) } ?? .zero
        group.addTask {
          try await Self.stream(
            call,
            first: start.advanced(by: offset),
            interval: interval,
            measuredFrom: measuredFrom,
            end: end,
            budget: budget
          )
        }
      }
      var total = StreamTally()
      var running = calls.count
      for try await tally in group {
        guard let tally else { continue }
        total.merge(tally)
        running -= 1
        if running == 0 { group.cancelAll() }
      }
      return total
    }
    let last = tally.lastCompletion ?? measuredFrom
    let elapsed = measuredFrom.duration(to: last)
    return (
      tally, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    )
  }

  private static func stream(
    _ call: LoadCall,
    first: ContinuousClock.Instant,
    interval: Duration?,
    measuredFrom: ContinuousClock.Instant,
    end: ContinuousClock.Instant?,
    budget: Budget
  ) async throws -> StreamTally {
    var tally = StreamTally()
    var due = first
    while !Task.isCancelled {
      if interval != nil {
        if due > .now { try await Task.sleep(until: due, clock: .continuous) }
      } else {
        due = .now
      }
      if let end, due >= end { break }
      if due >= measuredFrom, !budget.take() { break }
      var failure: String?
      do {
        try await call()
      } catch let error as RPCError {
        failure = GatewayMetrics.name(of: Status.Code(error.code))
      } catch {
        failure = "CLIENT_ERROR"
      }
      let answered = ContinuousClock.now
      if due >= measuredFrom {
        let waited = due.duration(to: answered)
        let micros =
          waited.components.seconds * 1_000_000 + waited.components.attoseconds / 1_000_000_000_000
        _ = tally.latencies.record(UInt64(max(1, micros)))
        if let failure {
          tally.failures[failure, default: 0] += 1
        } else {
          tally.succeeded += 1
        }
        tally.lastCompletion = answered
      }
      if let interval { due = due.advanced(by: interval) }
    }
    return tally
  }
}

/// The calls left to make in a `--requests` run, shared by every stream.
final class Budget: Sendable {
  private let remaining: Atomic<Int>

  init(_ calls: Int) { self.remaining = Atomic(calls) }

  /// Takes one call; `false` once none are left.
  func take() -> Bool { self.remaining.subtract(1, ordering: .relaxed).newValue >= 0 }
}
