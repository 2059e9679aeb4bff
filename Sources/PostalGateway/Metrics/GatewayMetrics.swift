import GRPCCore
import Prometheus
import Tracking

/// The gateway's Prometheus metrics: one registry per gateway (never the process-wide default,
/// so that several gateways in one test process do not share figures), the events pushed into it
/// as they happen (calls, transactions, refusals) and the gauges ``MetricsSampler`` sets at each
/// scrape. Label values are method names, status codes, agency codes and fixed reasons only:
/// never personal data, never anything a caller chooses freely.
final class GatewayMetrics: Sendable {
  /// Why a caller was turned away by a limit.
  enum Refusal: String, Sendable, CaseIterable {
    /// Too many calls in flight for one caller.
    case callsInFlight = "calls_in_flight"
    /// A request message over the size limit.
    case requestSize = "request_size"
    /// A connection over a listener's connection limit.
    case connections
    /// A connection closed because it opened no call in time.
    case firstCallTimeout = "first_call_timeout"
    /// A tracking attempt from a client locked out for that number.
    case trackingLockout = "tracking_lockout"
    /// A tracking attempt for a slowed number.
    case trackingSlowed = "tracking_slowed"
  }

  let registry: PrometheusCollectorRegistry

  /// Buckets of call durations: 1 ms to 60 s (streams last long; unary calls take milliseconds).
  static let callBuckets: [Duration] = [
    .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
    .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
    .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    .seconds(30), .seconds(60),
  ]
  /// Buckets of transaction durations: 250 µs to 2.5 s (an fsync takes about a quarter ms here).
  static let transactionBuckets: [Duration] = [
    .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
    .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
    .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    .milliseconds(2500),
  ]

  private let committed: Counter
  private let rolledBack: Counter
  private let transactionSeconds: DurationHistogram

  /// Creates the registry and the metrics that exist from the start.
  init() {
    let registry = PrometheusCollectorRegistry()
    self.registry = registry
    let transactions = MetricNameDescriptor(
      namespace: "postal_gateway",
      subsystem: "store",
      metricName: "transactions",
      unitName: "total",
      helpText: "Write transactions of the store, by outcome."
    )
    self.committed = registry.makeCounter(
      descriptor: transactions,
      labels: [("outcome", "committed")]
    )
    self.rolledBack = registry.makeCounter(
      descriptor: transactions,
      labels: [("outcome", "rolled_back")]
    )
    self.transactionSeconds = registry.makeDurationHistogram(
      descriptor: MetricNameDescriptor(
        namespace: "postal_gateway",
        subsystem: "store",
        metricName: "commit",
        unitName: "seconds",
        helpText: "Duration of committed write transactions, fsync included."
      ),
      buckets: Self.transactionBuckets
    )
    // Every reason is there from the start, at zero, so that rate() works from the first scrape.
    for reason in Refusal.allCases { _ = self.refusalCounter(reason) }
  }

  /// A call ended.
  /// - Parameters:
  ///   - listener: `partner` or `public`.
  ///   - method: The method called.
  ///   - code: Its status.
  ///   - duration: From the call's arrival to its status.
  func callEnded(
    listener: String,
    method: MethodDescriptor,
    code: Status.Code,
    duration: Duration
  ) {
    let labels = [
      ("listener", listener), ("grpc_service", method.service.fullyQualifiedService),
      ("grpc_method", method.method),
    ]
    self.registry.makeCounter(
      descriptor: MetricNameDescriptor(
        namespace: "grpc",
        subsystem: "server",
        metricName: "handled",
        unitName: "total",
        helpText: "Calls completed, by method and status code."
      ),
      labels: labels + [("grpc_code", Self.name(of: code))]
    ).increment()
    self.registry.makeDurationHistogram(
      descriptor: MetricNameDescriptor(
        namespace: "grpc",
        subsystem: "server",
        metricName: "handling",
        unitName: "seconds",
        helpText: "Duration of calls, from arrival to status, by method."
      ),
      labels: labels,
      buckets: Self.callBuckets
    ).record(duration)
  }

  /// A caller was turned away by a limit.
  func refused(_ reason: Refusal, by amount: Int = 1) {
    guard amount > 0 else { return }
    self.refusalCounter(reason).increment(by: Int64(amount))
  }

  private func refusalCounter(_ reason: Refusal) -> Counter {
    self.registry.makeCounter(
      descriptor: MetricNameDescriptor(
        namespace: "postal_gateway",
        subsystem: "throttle",
        metricName: "rejections",
        unitName: "total",
        helpText: "Calls, connections and tracking attempts turned away by a limit, by reason."
      ),
      labels: [("reason", reason.rawValue)]
    )
  }

  /// A gauge of the gateway's own (created on first use).
  func gauge(
    _ subsystem: String,
    _ name: String,
    unit: String = "",
    help: String,
    labels: [(String, String)] = []
  ) -> Gauge {
    self.registry.makeGauge(
      descriptor: MetricNameDescriptor(
        namespace: "postal_gateway",
        subsystem: subsystem,
        metricName: name,
        unitName: unit,
        helpText: help
      ),
      labels: labels
    )
  }

  /// The text exposition of every metric.
  func exposition() -> [UInt8] { self.registry.emitToBuffer() }

  /// The canonical name of a status code, as gRPC's own metrics spell it (`OK`, `NOT_FOUND`).
  static func name(of code: Status.Code) -> String {
    switch code {
    case .ok: "OK"
    case .cancelled: "CANCELLED"
    case .unknown: "UNKNOWN"
    case .invalidArgument: "INVALID_ARGUMENT"
    case .deadlineExceeded: "DEADLINE_EXCEEDED"
    case .notFound: "NOT_FOUND"
    case .alreadyExists: "ALREADY_EXISTS"
    case .permissionDenied: "PERMISSION_DENIED"
    case .resourceExhausted: "RESOURCE_EXHAUSTED"
    case .failedPrecondition: "FAILED_PRECONDITION"
    case .aborted: "ABORTED"
    case .outOfRange: "OUT_OF_RANGE"
    case .unimplemented: "UNIMPLEMENTED"
    case .internalError: "INTERNAL"
    case .unavailable: "UNAVAILABLE"
    case .dataLoss: "DATA_LOSS"
    case .unauthenticated: "UNAUTHENTICATED"
    default: "UNKNOWN"
    }
  }
}

extension GatewayMetrics: CommitObserver {
  func transactionEnded(duration: Duration, committed: Bool) {
    if committed {
      self.committed.increment()
      self.transactionSeconds.record(duration)
    } else {
      self.rolledBack.increment()
    }
  }
}
