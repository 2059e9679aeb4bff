import Foundation
import GRDB
public import Tracking

/// The ``SlaStore`` on SQLite. A shipment's hops are replaced by the ``ShipmentWrite`` that
/// appends its events (or recomputes them); running hops are found through partial indexes on
/// their at-risk and due times, and reports are aggregated in SQL.
public final class SQLiteSlaStore: SlaStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  /// The columns a hop is stored in, in `sla_hop` and (as a snapshot) in `sla_alert`.
  static let hopColumns = [
    "hop", "start_sequence", "start_kind", "started_at", "working_days", "counted_from",
    "due_date", "due_at", "at_risk_at", "calendar_versions", "provisional", "policy_version",
    "route_class", "appointment_slip", "end_sequence", "ended_at", "verdict", "stopped_by",
    "working_minutes", "agency_code", "post_office", "procedure_code", "steps", "rule",
    "extended_to", "appointment_date", "late_supplement_requests",
  ]

  static func values(_ hop: HopTimeliness) -> [(any DatabaseValueConvertible)?] {
    [
      hop.hop.rawValue, hop.startSequence, hop.startKind.rawValue, hop.startedAt.microseconds,
      hop.workingDays, hop.countedFrom.description, hop.due.description, hop.dueAt.microseconds,
      hop.atRiskAt.microseconds, hop.calendarVersions.joined(separator: "\n"), hop.provisional,
      hop.policyVersion, hop.routeClass?.rawValue, hop.appointmentSlip, hop.endSequence,
      hop.endedAt?.microseconds, hop.verdict?.rawValue, hop.stoppedBy?.rawValue,
      hop.workingMinutes, hop.agency.rawValue, hop.postOffice.rawValue, hop.procedure.rawValue,
      Self.encodeSteps(hop.steps), hop.rule, hop.extendedTo?.description,
      hop.appointmentDate?.description, hop.lateSupplementRequests,
    ]
  }

  /// `s.tracking_number, x.hop, …` for a table aliased `x` joined to `shipment s`.
  private static func selectHop(from alias: String) -> String {
    "s.tracking_number, " + Self.hopColumns.map { "\(alias).\($0)" }.joined(separator: ", ")
  }

  private static func decodeHop(_ row: Row, offset: Int = 0) throws -> HopTimeliness {
    func value<T: DatabaseValueConvertible>(_ column: Int) -> T { row[offset + column] }
    func optional<T: DatabaseValueConvertible>(_ column: Int) -> T? { row[offset + column] }
    let versions: String = value(10)
    return HopTimeliness(
      trackingNumber: try TrackingNumber(validating: value(0)),
      hop: try EventPayload.decode(value(1)),
      startSequence: value(2),
      startKind: try EventPayload.decode(value(3)),
      startedAt: Timestamp(microseconds: value(4)),
      workingDays: value(5),
      countedFrom: try CivilDate(iso: value(6)),
      due: try CivilDate(iso: value(7)),
      dueAt: Timestamp(microseconds: value(8)),
      atRiskAt: Timestamp(microseconds: value(9)),
      calendarVersions: versions.split(separator: "\n").map(String.init),
      provisional: value(11),
      policyVersion: value(12),
      routeClass: (optional(13) as String?).map(RouteClass.init(rawValue:)),
      appointmentSlip: value(14),
      endSequence: optional(15),
      endedAt: (optional(16) as Int64?).map(Timestamp.init(microseconds:)),
      verdict: try (optional(17) as String?).map { try EventPayload.decode($0) },
      stoppedBy: try (optional(18) as String?).map { try EventPayload.decode($0) },
      workingMinutes: optional(19),
      agency: try AgencyCode(validating: value(20)),
      postOffice: try PostOfficeCode(validating: value(21)),
      procedure: try ProcedureCode(validating: value(22)),
      steps: Self.decodeSteps(value(23)),
      rule: value(24),
      extendedTo: try (optional(25) as String?).map { try CivilDate(iso: $0) },
      appointmentDate: try (optional(26) as String?).map { try CivilDate(iso: $0) },
      lateSupplementRequests: value(27)
    )
  }

  private static func encodeSteps(_ steps: [String]) -> String {
    // Strings always encode.
    String(decoding: try! JSONEncoder().encode(steps), as: UTF8.self)
  }

  private static func decodeSteps(_ text: String) -> [String] {
    (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
  }

  /// Replaces a shipment's hops inside the caller's transaction. A hop keeps the alerts raised
  /// for the same clock start (its raised flags); a restarted clock may raise them again.
  static func replaceHops(_ hops: [HopTimeliness], shipmentID: Int64, in db: Database) throws {
    let columns = Self.hopColumns.joined(separator: ", ")
    let placeholders = Array(repeating: "?", count: Self.hopColumns.count).joined(separator: ", ")
    let updates = Self.hopColumns.dropFirst().map { "\($0) = excluded.\($0)" }
      .joined(separator: ", ")
    for hop in hops {
      try db.cachedStatement(
        sql: """
          INSERT INTO sla_hop (shipment_id, \(columns)) VALUES (?, \(placeholders))
          ON CONFLICT (shipment_id, hop) DO UPDATE SET \(updates),
            at_risk_raised = CASE WHEN sla_hop.start_sequence = excluded.start_sequence
              THEN sla_hop.at_risk_raised ELSE 0 END,
            breach_raised = CASE WHEN sla_hop.start_sequence = excluded.start_sequence
              THEN sla_hop.breach_raised ELSE 0 END
          """
      ).execute(
        arguments: StatementArguments([shipmentID] + Self.values(hop))
      )
    }
    let kept = hops.map(\.hop.rawValue)
    try db.cachedStatement(
      sql: """
        DELETE FROM sla_hop WHERE shipment_id = ?
        AND hop NOT IN (\(kept.map { _ in "?" }.joined(separator: ", ")))
        """
    ).execute(
      arguments: StatementArguments([shipmentID] + kept)
    )
  }

  /// Raises the alerts a write asks for, each at most once per hop and clock start.
  static func raise(
    _ alerts: [AlertRequest],
    shipmentID: Int64,
    at time: Timestamp,
    in db: Database
  ) throws {
    for alert in alerts {
      let flag = alert.kind == .atRisk ? "at_risk_raised" : "breach_raised"
      try Self.raise(
        alert.kind,
        whereClause: "shipment_id = ? AND hop = ? AND \(flag) = 0",
        arguments: [shipmentID, alert.hop.rawValue],
        now: time,
        in: db
      )
    }
  }

  /// The stored hops of a shipment, inside the caller's transaction.
  static func hops(ofShipment id: Int64, in db: Database) throws -> [HopTimeliness] {
    try Row.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT \(Self.selectHop(from: "h")) FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id
          WHERE h.shipment_id = ? ORDER BY h.started_at
          """
      ),
      arguments: [id]
    ).map { try Self.decodeHop($0) }
  }

  /// Copies the matching hops into the alert log as `kind` and marks them raised.
  @discardableResult
  private static func raise(
    _ kind: SlaAlertKind,
    whereClause: String,
    arguments: StatementArguments,
    index: String? = nil,
    limit: Int = Int.max,
    now: Timestamp,
    in db: Database
  ) throws -> Int {
    let flag = kind == .atRisk ? "at_risk_raised" : "breach_raised"
    let rowIDs = try Int64.fetchAll(
      db.cachedStatement(
        sql:
          "SELECT rowid FROM sla_hop \(index.map { "INDEXED BY \($0)" } ?? "") WHERE \(whereClause) LIMIT ?"
      ),
      arguments: arguments + [limit]
    )
    let columns = Self.hopColumns.joined(separator: ", ")
    for rowID in rowIDs {
      try db.cachedStatement(
        sql: """
          INSERT OR IGNORE INTO sla_alert (kind, raised_at, shipment_id, \(columns))
          SELECT ?, ?, shipment_id, \(columns) FROM sla_hop WHERE rowid = ?
          """
      ).execute(
        arguments: [kind.rawValue, now.microseconds, rowID]
      )
      try db.cachedStatement(sql: "UPDATE sla_hop SET \(flag) = 1 WHERE rowid = ?").execute(
        arguments: [rowID])
    }
    return rowIDs.count
  }

  public func raiseDueAlerts(now: Timestamp, limit: Int) async throws -> [SlaAlert] {
    let alerts = try await self.database.write { db in
      let before =
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(cursor) FROM sla_alert")) ?? 0
      // A hop that is already overdue is also at risk: its at-risk alert comes first.
      let raised = try Self.raise(
        .atRisk,
        whereClause: "end_sequence IS NULL AND at_risk_raised = 0 AND at_risk_at <= ?",
        arguments: [now.microseconds],
        index: "sla_hop_at_risk",
        limit: limit,
        now: now,
        in: db
      )
      try Self.raise(
        .breach,
        whereClause: "end_sequence IS NULL AND breach_raised = 0 AND due_at <= ?",
        arguments: [now.microseconds],
        index: "sla_hop_breach",
        limit: max(0, limit - raised),
        now: now,
        in: db
      )
      return try Self.fetchAlerts(after: before, limit: Int.max, in: db)
    }
    if !alerts.isEmpty { self.database.feed.publish([.alerts]) }
    return alerts
  }

  public func alerts(after cursor: Int64, limit: Int) async throws -> [SlaAlert] {
    try await self.database.read { db in try Self.fetchAlerts(after: cursor, limit: limit, in: db) }
  }

  private static func fetchAlerts(
    after cursor: Int64,
    limit: Int,
    in db: Database
  ) throws
    -> [SlaAlert]
  {
    try Row.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT a.cursor, a.kind, a.raised_at, \(Self.selectHop(from: "a"))
          FROM sla_alert a JOIN shipment s ON s.id = a.shipment_id
          WHERE a.cursor > ? ORDER BY a.cursor LIMIT ?
          """
      ),
      arguments: [cursor, limit]
    ).map { row in
      SlaAlert(
        cursor: row[0],
        kind: try EventPayload.decode(row[1]),
        raisedAt: Timestamp(microseconds: row[2]),
        hop: try Self.decodeHop(row, offset: 3)
      )
    }
  }

  public func nextAlertTime() async throws -> Timestamp? {
    try await self.database.read { db in
      let atRisk = try Int64.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT MIN(at_risk_at) FROM sla_hop INDEXED BY sla_hop_at_risk
            WHERE end_sequence IS NULL AND at_risk_raised = 0
            """
        )
      )
      let breach = try Int64.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT MIN(due_at) FROM sla_hop INDEXED BY sla_hop_breach
            WHERE end_sequence IS NULL AND breach_raised = 0
            """
        )
      )
      return [atRisk, breach].compactMap { $0 }.min().map(Timestamp.init(microseconds:))
    }
  }

  public func report(
    endedFrom from: Timestamp,
    to: Timestamp,
    overdueAt: Timestamp,
    grouping: SlaReportGrouping
  ) async throws -> [SlaReportAggregate] {
    let key =
      switch grouping {
      case .agency: "h.agency_code"
      case .postOffice: "h.post_office"
      case .routeClass: "COALESCE(h.route_class, '-')"
      case .procedure: "h.procedure_code"
      }
    return try await self.database.read { db in
      // The period's ended hops (through the ended_at index) and the running overdue ones
      // (through the overdue index), grouped; percentiles by rank within each group.
      let rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            WITH period AS (
              SELECT \(key) AS k, h.hop, h.verdict, h.working_minutes, 0 AS running,
                -- Late with apology: ended by the extension's new appointment (Vietnam's date).
                h.extended_to IS NOT NULL
                  AND date(h.ended_at / 1000000 + 25200, 'unixepoch') <= h.extended_to AS extended,
                h.appointment_date IS NOT NULL AND h.appointment_date > h.due_date AS later,
                h.late_supplement_requests AS supplements
              FROM sla_hop h INDEXED BY sla_hop_ended
              WHERE h.ended_at >= ?1 AND h.ended_at < ?2 AND h.verdict IS NOT NULL
              UNION ALL
              SELECT \(key), h.hop, NULL, NULL, 1, 0,
                h.appointment_date IS NOT NULL AND h.appointment_date > h.due_date,
                h.late_supplement_requests
              FROM sla_hop h INDEXED BY sla_hop_overdue
              WHERE h.end_sequence IS NULL AND h.due_at <= ?3
            ),
            ranked AS (
              SELECT k, hop, working_minutes,
                ROW_NUMBER() OVER (PARTITION BY k, hop ORDER BY working_minutes) AS rank,
                COUNT(*) OVER (PARTITION BY k, hop) AS n
              FROM period WHERE verdict IS NOT NULL AND working_minutes IS NOT NULL
            )
            SELECT p.k, p.hop,
              SUM(p.verdict IS NOT NULL), COALESCE(SUM(p.verdict = 'LATE'), 0), SUM(p.running),
              (SELECT r.working_minutes FROM ranked r
                WHERE r.k = p.k AND r.hop = p.hop AND r.rank = (r.n + 1) / 2),
              (SELECT r.working_minutes FROM ranked r
                WHERE r.k = p.k AND r.hop = p.hop AND r.rank = (9 * r.n + 9) / 10),
              COALESCE(SUM(p.verdict = 'LATE' AND p.extended), 0), SUM(p.later), SUM(p.supplements)
            FROM period p GROUP BY p.k, p.hop ORDER BY p.k, p.hop
            """
        ),
        arguments: [from.microseconds, to.microseconds, overdueAt.microseconds]
      )
      return try rows.map { row in
        SlaReportAggregate(
          key: row[0],
          hop: try EventPayload.decode(row[1]),
          ended: row[2],
          late: row[3],
          openBreaches: row[4],
          medianWorkingMinutes: (row[5] as Int?) ?? 0,
          p90WorkingMinutes: (row[6] as Int?) ?? 0,
          lateWithApology: row[7],
          appointmentsLaterThanLaw: row[8],
          lateSupplementRequests: row[9]
        )
      }
    }
  }

  public func shipmentsWithHops(
    after number: TrackingNumber?,
    limit: Int
  ) async throws
    -> [TrackingNumber]
  {
    try await self.database.read { db in
      try String.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT DISTINCT s.tracking_number FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id
            WHERE s.tracking_number > ? ORDER BY s.tracking_number LIMIT ?
            """
        ),
        arguments: [number?.rawValue ?? "", limit]
      ).map { try TrackingNumber(validating: $0) }
    }
  }

  public func storedHops(of number: TrackingNumber) async throws -> [HopTimeliness] {
    try await self.database.read { db in
      guard let id = try SQLiteDatabase.shipmentID(number, in: db) else { return [] }
      return try Self.hops(ofShipment: id, in: db)
    }
  }

  public func atRiskCount(now: Timestamp) async throws -> Int {
    try await self.database.read { db in try Self.runningHops(past: .atRisk, now: now, in: db) }
  }

  public func runningHopCounts(now: Timestamp) async throws -> SlaRunningCounts {
    try await self.database.read { db in
      let atRiskOrOverdue = try Self.runningHops(past: .atRisk, now: now, in: db)
      let overdue = try Self.runningHops(past: .due, now: now, in: db)
      // at_risk_at <= due_at for every hop, so the overdue are among the first count.
      return SlaRunningCounts(atRisk: max(0, atRiskOrOverdue - overdue), overdue: overdue)
    }
  }

  /// A time of a running hop, with the partial index that finds the hops past it.
  private enum RunningHopTime: String {
    case atRisk = "at_risk_at"
    case due = "due_at"

    var index: String { self == .atRisk ? "sla_hop_running" : "sla_hop_overdue" }
  }

  /// How many running hops are past `time` at `now`, counted on its partial index.
  private static func runningHops(
    past time: RunningHopTime,
    now: Timestamp,
    in db: Database
  ) throws -> Int {
    try Int.fetchOne(
      db.cachedStatement(
        sql: """
          SELECT count(*) FROM sla_hop INDEXED BY \(time.index)
          WHERE end_sequence IS NULL AND \(time.rawValue) <= ?
          """
      ),
      arguments: [now.microseconds]
    ) ?? 0
  }
}
