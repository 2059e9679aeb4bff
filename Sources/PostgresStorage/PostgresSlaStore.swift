import Foundation
import Logging
import Persistence
import PostgresNIO
public import Tracking

/// The ``SlaStore`` on PostgreSQL, shared by replicas. Hops are replaced by the shipment write
/// that changes them; due alerts are raised by whichever replica's monitor asks first — the due
/// hops are locked `FOR UPDATE SKIP LOCKED` and flagged in the transaction that copies them
/// into the alert log, and the log's `UNIQUE (shipment, hop, clock start, kind)` keeps each
/// alert once. Alerts are numbered under a transaction lock, so the log's cursor is in commit
/// order and a watcher reading "after cursor n" never skips one committed late.
public struct PostgresSlaStore: SlaStore {
  let pool: PostgresPool
  let feed: ChangeFeed

  /// A store on a migrated database.
  public init(pool: PostgresPool, feed: ChangeFeed) {
    self.pool = pool
    self.feed = feed
  }

  var logger: Logger { self.pool.logger }

  /// The advisory transaction lock alerts are numbered under.
  static let alertLockKey: Int64 = 7_400_180_007

  static let hopColumns = [
    "hop", "start_sequence", "start_kind", "started_at", "working_days", "counted_from",
    "due_date", "due_at", "at_risk_at", "calendar_versions", "provisional", "policy_version",
    "route_class", "appointment_slip", "end_sequence", "ended_at", "verdict", "stopped_by",
    "working_minutes", "agency_code", "post_office", "procedure_code", "steps", "rule",
    "extended_to", "appointment_date", "late_supplement_requests",
  ]

  private static func bind(_ hop: HopTimeliness, into bindings: inout PostgresBindings) {
    bindings.append(hop.hop.rawValue)
    bindings.append(hop.startSequence)
    bindings.append(hop.startKind.rawValue)
    bindings.append(hop.startedAt.microseconds)
    bindings.append(hop.workingDays)
    bindings.append(hop.countedFrom.description)
    bindings.append(hop.due.description)
    bindings.append(hop.dueAt.microseconds)
    bindings.append(hop.atRiskAt.microseconds)
    bindings.append(hop.calendarVersions.joined(separator: "\n"))
    bindings.append(hop.provisional)
    bindings.append(hop.policyVersion)
    bindings.append(hop.routeClass?.rawValue)
    bindings.append(hop.appointmentSlip)
    bindings.append(hop.endSequence)
    bindings.append(hop.endedAt?.microseconds)
    bindings.append(hop.verdict?.rawValue)
    bindings.append(hop.stoppedBy?.rawValue)
    bindings.append(hop.workingMinutes)
    bindings.append(hop.agency.rawValue)
    bindings.append(hop.postOffice.rawValue)
    bindings.append(hop.procedure.rawValue)
    // Strings always encode.
    bindings.append(String(decoding: try! JSONEncoder().encode(hop.steps), as: UTF8.self))
    bindings.append(hop.rule)
    bindings.append(hop.extendedTo?.description)
    bindings.append(hop.appointmentDate?.description)
    bindings.append(hop.lateSupplementRequests)
  }

  private static func selectHop(from alias: String) -> String {
    "s.tracking_number, " + Self.hopColumns.map { "\(alias).\($0)" }.joined(separator: ", ")
  }

  private static func decodeHop(_ c: Columns) throws -> HopTimeliness {
    let versions: String = try c["calendar_versions"]
    let steps: String = try c["steps"]
    return HopTimeliness(
      trackingNumber: try TrackingNumber(validating: try c["tracking_number"]),
      hop: try SealedRecords.decode(try c["hop"]),
      startSequence: try c["start_sequence"],
      startKind: try SealedRecords.decode(try c["start_kind"]),
      startedAt: Timestamp(microseconds: try c["started_at"]),
      workingDays: try c["working_days"],
      countedFrom: try CivilDate(iso: try c["counted_from"]),
      due: try CivilDate(iso: try c["due_date"]),
      dueAt: Timestamp(microseconds: try c["due_at"]),
      atRiskAt: Timestamp(microseconds: try c["at_risk_at"]),
      calendarVersions: versions.split(separator: "\n").map(String.init),
      provisional: try c["provisional"],
      policyVersion: try c["policy_version"],
      routeClass: try c["route_class", as: String?.self].map(RouteClass.init(rawValue:)),
      appointmentSlip: try c["appointment_slip"],
      endSequence: try c["end_sequence", as: Int?.self],
      endedAt: try c["ended_at", as: Int64?.self].map(Timestamp.init(microseconds:)),
      verdict: try c["verdict", as: String?.self].map { try SealedRecords.decode($0) },
      stoppedBy: try c["stopped_by", as: String?.self].map { try SealedRecords.decode($0) },
      workingMinutes: try c["working_minutes", as: Int?.self],
      agency: try AgencyCode(validating: try c["agency_code"]),
      postOffice: try PostOfficeCode(validating: try c["post_office"]),
      procedure: try ProcedureCode(validating: try c["procedure_code"]),
      steps: (try? JSONDecoder().decode([String].self, from: Data(steps.utf8))) ?? [],
      rule: try c["rule"],
      extendedTo: try c["extended_to", as: String?.self].map { try CivilDate(iso: $0) },
      appointmentDate: try c["appointment_date", as: String?.self].map { try CivilDate(iso: $0) },
      lateSupplementRequests: try c["late_supplement_requests"]
    )
  }

  /// Replaces a shipment's hops inside the caller's transaction. A hop keeps the alerts raised
  /// for the same clock start; a restarted clock may raise them again.
  static func replaceHops(
    _ hops: [HopTimeliness],
    shipmentID: Int64,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws {
    let columns = Self.hopColumns.joined(separator: ", ")
    let placeholders = (2 ... (Self.hopColumns.count + 1)).map { "$\($0)" }.joined(separator: ", ")
    let updates = Self.hopColumns.dropFirst().map { "\($0) = excluded.\($0)" }
      .joined(separator: ", ")
    for hop in hops {
      var bindings = PostgresBindings()
      bindings.append(shipmentID)
      Self.bind(hop, into: &bindings)
      try await connection.query(
        PostgresQuery(
          unsafeSQL: """
            INSERT INTO sla_hop (shipment_id, \(columns)) VALUES ($1, \(placeholders))
            ON CONFLICT (shipment_id, hop) DO UPDATE SET \(updates),
              at_risk_raised = sla_hop.at_risk_raised
                AND sla_hop.start_sequence = excluded.start_sequence,
              breach_raised = sla_hop.breach_raised
                AND sla_hop.start_sequence = excluded.start_sequence
            """,
          binds: bindings
        ),
        logger: logger
      )
    }
    try await connection.query(
      """
      DELETE FROM sla_hop WHERE shipment_id = \(shipmentID)
        AND NOT (hop = ANY(\(hops.map(\.hop.rawValue))))
      """,
      logger: logger
    )
  }

  /// Raises the alerts a write asks for, each at most once per hop and clock start.
  static func raise(
    _ alerts: [AlertRequest],
    shipmentID: Int64,
    at time: Timestamp,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws {
    guard !alerts.isEmpty else { return }
    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.alertLockKey))", logger: logger)
    for alert in alerts {
      _ = try await Self.raise(
        alert.kind,
        due: "shipment_id = \(shipmentID) AND hop = '\(alert.hop.rawValue)'",
        limit: 1,
        now: time,
        on: connection,
        logger: logger
      )
    }
  }

  /// Flags the matching unraised hops as raised and copies them into the alert log as `kind`.
  /// - Parameter due: A condition on `sla_hop` built from trusted values only.
  /// - Returns: The new alerts' cursors.
  private static func raise(
    _ kind: SlaAlertKind,
    due: String,
    limit: Int,
    now: Timestamp,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [Int64] {
    let flag = kind == .atRisk ? "at_risk_raised" : "breach_raised"
    let columns = Self.hopColumns.joined(separator: ", ")
    let rows = try await connection.query(
      """
      WITH due AS (
        SELECT shipment_id, hop FROM sla_hop WHERE NOT \(unescaped: flag) AND \(unescaped: due)
        LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED
      ), flagged AS (
        UPDATE sla_hop h SET \(unescaped: flag) = true FROM due
        WHERE h.shipment_id = due.shipment_id AND h.hop = due.hop
        RETURNING h.*
      )
      INSERT INTO sla_alert (kind, raised_at, shipment_id, \(unescaped: columns))
      SELECT \(kind.rawValue), \(now.microseconds), shipment_id, \(unescaped: columns) FROM flagged
      ON CONFLICT DO NOTHING RETURNING cursor
      """,
      logger: logger
    )
    var cursors: [Int64] = []
    for try await cursor in rows.decode(Int64.self) { cursors.append(cursor) }
    return cursors
  }

  public func raiseDueAlerts(now: Timestamp, limit: Int) async throws -> [SlaAlert] {
    let alerts = try await self.pool.transaction { connection in
      try await connection.query(
        "SELECT pg_advisory_xact_lock(\(Self.alertLockKey))",
        logger: self.logger
      )
      // A hop that is already overdue is also at risk: its at-risk alert comes first.
      var cursors = try await Self.raise(
        .atRisk,
        due: "end_sequence IS NULL AND at_risk_at <= \(now.microseconds)",
        limit: limit,
        now: now,
        on: connection,
        logger: self.logger
      )
      cursors += try await Self.raise(
        .breach,
        due: "end_sequence IS NULL AND due_at <= \(now.microseconds)",
        limit: max(0, limit - cursors.count),
        now: now,
        on: connection,
        logger: self.logger
      )
      return try await Self.alerts(
        "WHERE a.cursor = ANY(\(cursors)) ORDER BY a.cursor",
        on: connection,
        logger: self.logger
      )
    }
    if !alerts.isEmpty {
      self.feed.publish([.alerts])
      try? await self.pool.withConnection { connection in
        try await PostgresChangeListener.notify([.alerts], on: connection, logger: self.logger)
      }
    }
    return alerts
  }

  public func alerts(after cursor: Int64, limit: Int) async throws -> [SlaAlert] {
    try await self.pool.withConnection { connection in
      try await Self.alerts(
        "WHERE a.cursor > \(cursor) ORDER BY a.cursor LIMIT \(Int64(limit))",
        on: connection,
        logger: self.logger
      )
    }
  }

  private static func alerts(
    _ condition: PostgresQuery,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [SlaAlert] {
    var query: PostgresQuery = """
      SELECT a.cursor, a.kind, a.raised_at, \(unescaped: Self.selectHop(from: "a"))
      FROM sla_alert a JOIN shipment s ON s.id = a.shipment_id\(unescaped: " ")
      """
    query.sql += condition.sql
    query.binds = condition.binds
    let rows = try await connection.query(query, logger: logger)
    var alerts: [SlaAlert] = []
    for try await row in rows {
      let c = Columns(row)
      alerts.append(
        SlaAlert(
          cursor: try c["cursor"],
          kind: try SealedRecords.decode(try c["kind"]),
          raisedAt: Timestamp(microseconds: try c["raised_at"]),
          hop: try Self.decodeHop(c)
        )
      )
    }
    return alerts
  }

  public func nextAlertTime() async throws -> Timestamp? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT LEAST(
          (SELECT MIN(at_risk_at) FROM sla_hop WHERE end_sequence IS NULL AND NOT at_risk_raised),
          (SELECT MIN(due_at) FROM sla_hop WHERE end_sequence IS NULL AND NOT breach_raised))
        """,
        logger: self.logger
      )
      for try await time in rows.decode(Int64?.self) {
        return time.map(Timestamp.init(microseconds:))
      }
      return nil
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
    return try await self.pool.withConnection { connection in
      // The period's ended hops and the running overdue ones, grouped; nearest-rank
      // percentiles as on SQLite. An extension counts when the hop ended by its new
      // appointment (Vietnam's date, UTC+7).
      let rows = try await connection.query(
        """
        WITH period AS (
          SELECT \(unescaped: key) AS k, h.hop, h.verdict, h.working_minutes, 0 AS running,
            (h.extended_to IS NOT NULL AND to_char(to_timestamp(h.ended_at / 1000000 + 25200)
              AT TIME ZONE 'UTC', 'YYYY-MM-DD') <= h.extended_to) AS extended,
            (h.appointment_date IS NOT NULL AND h.appointment_date > h.due_date) AS later,
            h.late_supplement_requests AS supplements
          FROM sla_hop h
          WHERE h.ended_at >= \(from.microseconds) AND h.ended_at < \(to.microseconds)
            AND h.verdict IS NOT NULL
          UNION ALL
          SELECT \(unescaped: key), h.hop, NULL, NULL, 1, false,
            (h.appointment_date IS NOT NULL AND h.appointment_date > h.due_date),
            h.late_supplement_requests
          FROM sla_hop h WHERE h.end_sequence IS NULL AND h.due_at <= \(overdueAt.microseconds)
        ),
        ranked AS (
          SELECT k, hop, working_minutes,
            ROW_NUMBER() OVER (PARTITION BY k, hop ORDER BY working_minutes) AS rank,
            COUNT(*) OVER (PARTITION BY k, hop) AS n
          FROM period WHERE verdict IS NOT NULL AND working_minutes IS NOT NULL
        )
        SELECT p.k, p.hop,
          COUNT(p.verdict)::bigint, COUNT(*) FILTER (WHERE p.verdict = 'LATE')::bigint,
          SUM(p.running)::bigint,
          (SELECT r.working_minutes::bigint FROM ranked r
            WHERE r.k = p.k AND r.hop = p.hop AND r.rank = (r.n + 1) / 2),
          (SELECT r.working_minutes::bigint FROM ranked r
            WHERE r.k = p.k AND r.hop = p.hop AND r.rank = (9 * r.n + 9) / 10),
          COUNT(*) FILTER (WHERE p.verdict = 'LATE' AND p.extended)::bigint,
          COUNT(*) FILTER (WHERE p.later)::bigint, SUM(p.supplements)::bigint
        FROM period p GROUP BY p.k, p.hop ORDER BY p.k, p.hop
        """,
        logger: self.logger
      )
      var aggregates: [SlaReportAggregate] = []
      for try await row in rows {
        let (k, hop, ended, late, running, median, p90, extended, later, supplements) =
          try row.decode(
            (String, String, Int, Int, Int, Int?, Int?, Int, Int, Int).self
          )
        aggregates.append(
          SlaReportAggregate(
            key: k,
            hop: try SealedRecords.decode(hop),
            ended: ended,
            late: late,
            openBreaches: running,
            medianWorkingMinutes: median ?? 0,
            p90WorkingMinutes: p90 ?? 0,
            lateWithApology: extended,
            appointmentsLaterThanLaw: later,
            lateSupplementRequests: supplements
          )
        )
      }
      return aggregates
    }
  }

  public func shipmentsWithHops(
    after number: TrackingNumber?,
    limit: Int
  ) async throws -> [TrackingNumber] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT DISTINCT s.tracking_number FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id
        WHERE s.tracking_number > \(number?.rawValue ?? "") ORDER BY s.tracking_number
        LIMIT \(Int64(limit))
        """,
        logger: self.logger
      )
      var numbers: [TrackingNumber] = []
      for try await raw in rows.decode(String.self) {
        numbers.append(try TrackingNumber(validating: raw))
      }
      return numbers
    }
  }

  public func storedHops(of number: TrackingNumber) async throws -> [HopTimeliness] {
    try await self.pool.withConnection { connection in
      try await Self.hops(
        "WHERE s.tracking_number = \(number.rawValue) ORDER BY h.started_at",
        on: connection,
        logger: self.logger
      )
    }
  }

  /// A shipment's stored hops, on the caller's connection.
  static func hops(
    ofShipment id: Int64,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [HopTimeliness] {
    try await Self.hops(
      "WHERE h.shipment_id = \(id) ORDER BY h.started_at",
      on: connection,
      logger: logger
    )
  }

  private static func hops(
    _ condition: PostgresQuery,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [HopTimeliness] {
    var query = PostgresQuery(
      unsafeSQL: """
        SELECT \(Self.selectHop(from: "h")) FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id\u{20}
        """
    )
    query.sql += condition.sql
    query.binds = condition.binds
    var hops: [HopTimeliness] = []
    for try await row in try await connection.query(query, logger: logger) {
      hops.append(try Self.decodeHop(Columns(row)))
    }
    return hops
  }

  public func atRiskCount(now: Timestamp) async throws -> Int {
    try await self.runningHopCounts(now: now).atRiskOrOverdue
  }

  public func runningHopCounts(now: Timestamp) async throws -> SlaRunningCounts {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT (SELECT count(*) FROM sla_hop
                WHERE end_sequence IS NULL AND at_risk_at <= \(now.microseconds)),
               (SELECT count(*) FROM sla_hop
                WHERE end_sequence IS NULL AND due_at <= \(now.microseconds))
        """,
        logger: self.logger
      )
      for try await (atRiskOrOverdue, overdue) in rows.decode((Int, Int).self) {
        return SlaRunningCounts(atRisk: max(0, atRiskOrOverdue - overdue), overdue: overdue)
      }
      return SlaRunningCounts(atRisk: 0, overdue: 0)
    }
  }
}

extension SlaRunningCounts {
  /// Hops past their at-risk time (the overdue among them).
  fileprivate var atRiskOrOverdue: Int { self.atRisk + self.overdue }
}
