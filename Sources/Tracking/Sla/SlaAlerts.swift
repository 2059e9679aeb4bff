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

/// Where hops and alerts live. The hops of a shipment are written in the transaction that
/// appends its events; implementations find due hops through an index on their due times.
public protocol SlaStore: Sendable {
  /// Raises the alerts that are due at `now` for running hops (at most `limit`), each exactly
  /// once, and returns them.
  func raiseDueAlerts(now: Timestamp, limit: Int) async throws -> [SlaAlert]

  /// The alerts after a cursor, oldest first.
  func alerts(after cursor: Int64, limit: Int) async throws -> [SlaAlert]

  /// The hops that ended in `[from, to)`, and the hops still running whose due time is before
  /// `overdueAt`.
  func hopsForReport(
    endedFrom from: Timestamp,
    to: Timestamp,
    overdueAt: Timestamp
  ) async throws -> [HopTimeliness]

  /// The numbers of shipments with hops, after a number (in order), for recomputing.
  func shipmentsWithHops(
    after number: TrackingNumber?,
    limit: Int
  ) async throws
    -> [TrackingNumber]

  /// The stored hops of a shipment.
  func storedHops(of number: TrackingNumber) async throws -> [HopTimeliness]

  /// Replaces a shipment's stored hops with recomputed ones (alerts already raised stay; a hop
  /// that now ended late gets its breach alert, raised at `now`).
  func replaceHops(
    of number: TrackingNumber,
    with hops: [HopTimeliness],
    now: Timestamp
  )
    async throws

  /// How many running hops are at risk or overdue at `now` (for the benchmark and operators).
  func atRiskCount(now: Timestamp) async throws -> Int
}
