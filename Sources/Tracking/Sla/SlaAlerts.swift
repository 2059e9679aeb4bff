/// What an alert says about a hop.
public enum SlaAlertKind: String, Hashable, Sendable, CaseIterable {
  /// The policy's share of the hop's working time has passed and it still runs.
  case atRisk = "AT_RISK"
  /// The hop's due day is over and it still ran (or ended late).
  case breach = "BREACH"
}

/// One alert, raised exactly once per hop (per clock start) and kind; the cursor orders them.
public struct SlaAlert: Hashable, Sendable {
  /// Its position in the alert log (strictly increasing).
  public var cursor: Int64
  /// What it says.
  public var kind: SlaAlertKind
  /// When it was raised.
  public var raisedAt: Timestamp
  /// The hop as it was when the alert was raised.
  public var hop: HopTimeliness

  /// Creates an alert.
  public init(cursor: Int64, kind: SlaAlertKind, raisedAt: Timestamp, hop: HopTimeliness) {
    self.cursor = cursor
    self.kind = kind
    self.raisedAt = raisedAt
    self.hop = hop
  }
}

/// Where hops and alerts live. A shipment's hops are written by the ``ShipmentWrite`` that
/// appends its events (or recomputes them); implementations find due hops through indexes on
/// their due times and aggregate reports in the database.
public protocol SlaStore: Sendable {
  /// Raises the alerts that are due at `now` for running hops (at most `limit`), each exactly
  /// once, and returns them.
  func raiseDueAlerts(now: Timestamp, limit: Int) async throws -> [SlaAlert]

  /// The earliest time an alert is due for a running hop that has not raised it yet, if any.
  func nextAlertTime() async throws -> Timestamp?

  /// The alerts after a cursor, oldest first.
  func alerts(after cursor: Int64, limit: Int) async throws -> [SlaAlert]

  /// The report of a period, aggregated by the store: hops that ended in `[from, to)` and hops
  /// still running whose due time is before `overdueAt`, grouped.
  func report(
    endedFrom from: Timestamp,
    to: Timestamp,
    overdueAt: Timestamp,
    grouping: SlaReportGrouping
  ) async throws -> [SlaReportAggregate]

  /// The numbers of shipments with hops, after a number (in order), for recomputing.
  func shipmentsWithHops(
    after number: TrackingNumber?,
    limit: Int
  ) async throws
    -> [TrackingNumber]

  /// The stored hops of a shipment.
  func storedHops(of number: TrackingNumber) async throws -> [HopTimeliness]

  /// How many running hops are at risk or overdue at `now` (for the benchmark and operators).
  func atRiskCount(now: Timestamp) async throws -> Int

  /// Running hops at `now`: those at risk but not yet due, and those past their due time.
  func runningHopCounts(now: Timestamp) async throws -> SlaRunningCounts
}

/// How many running hops are at risk and how many are overdue at one moment.
public struct SlaRunningCounts: Hashable, Sendable {
  /// At risk: past the at-risk time, not yet due.
  public var atRisk: Int
  /// Past the due time and still running (breached).
  public var overdue: Int

  /// Creates counts.
  public init(atRisk: Int, overdue: Int) {
    self.atRisk = atRisk
    self.overdue = overdue
  }
}

/// One group of a report as the store aggregates it.
public struct SlaReportAggregate: Hashable, Sendable {
  /// The group (an agency, post office, route class or procedure code; `-` for none).
  public var key: String
  /// The hop kind.
  public var hop: SlaHop
  /// Hops that ended in the period with a verdict.
  public var ended: Int
  /// Of those, LATE (with or without an apology).
  public var late: Int
  /// Of the late ones, those the agency had extended with an apology.
  public var lateWithApology: Int
  /// Hops whose agency appointment is later than the law allows.
  public var appointmentsLaterThanLaw: Int
  /// Supplement requests that came late or were not the first.
  public var lateSupplementRequests: Int
  /// Hops still running past their due time.
  public var openBreaches: Int
  /// Nearest-rank median and 90th percentile of the working minutes taken (0 when none).
  public var medianWorkingMinutes: Int
  public var p90WorkingMinutes: Int

  /// Creates an aggregate.
  public init(
    key: String,
    hop: SlaHop,
    ended: Int,
    late: Int,
    openBreaches: Int,
    medianWorkingMinutes: Int,
    p90WorkingMinutes: Int,
    lateWithApology: Int = 0,
    appointmentsLaterThanLaw: Int = 0,
    lateSupplementRequests: Int = 0
  ) {
    self.lateWithApology = lateWithApology
    self.appointmentsLaterThanLaw = appointmentsLaterThanLaw
    self.lateSupplementRequests = lateSupplementRequests
    self.key = key
    self.hop = hop
    self.ended = ended
    self.late = late
    self.openBreaches = openBreaches
    self.medianWorkingMinutes = medianWorkingMinutes
    self.p90WorkingMinutes = p90WorkingMinutes
  }
}
