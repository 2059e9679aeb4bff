import GRDB
public import Tracking

/// Hops and alerts. A shipment's hops are rewritten in the transaction that appends its events;
/// running hops are found through partial indexes on their at-risk and due times.
extension SQLiteShipmentStore: SlaStore {
  /// The columns a hop is stored in, in `sla_hop` and (as a snapshot) in `sla_alert`.
  static let hopColumns = [
    "hop", "start_sequence", "start_kind", "started_at", "working_days", "counted_from",
    "due_date", "due_at", "at_risk_at", "calendar_versions", "provisional", "policy_version",
    "route_class", "appointment_slip", "end_sequence", "ended_at", "verdict", "stopped_by",
    "working_minutes", "agency_code", "post_office", "procedure_code",
  ]

  private static func values(_ hop: HopTimeliness) -> [(any DatabaseValueConvertible)?] {
    [
      hop.hop.rawValue, hop.startSequence, hop.startKind.rawValue, hop.startedAt.microseconds,
      hop.workingDays, hop.countedFrom.description, hop.due.description, hop.dueAt.microseconds,
      hop.atRiskAt.microseconds, hop.calendarVersions.joined(separator: "\n"), hop.provisional,
      hop.policyVersion, hop.routeClass?.rawValue, hop.appointmentSlip, hop.endSequence,
      hop.endedAt?.microseconds, hop.verdict?.rawValue, hop.stoppedBy?.rawValue,
      hop.workingMinutes, hop.agency.rawValue, hop.postOffice.rawValue, hop.procedure.rawValue,
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
      steps: []
    )
  }

  /// Writes a shipment's hops as they are after its latest events: a hop keeps the alerts
  /// raised for the same clock start; a hop that ended late gets its breach alert now if the
  /// monitor had not raised it yet.
  static func updateHops(
    _ hops: [HopTimeliness],
    shipmentID: Int64,
    now: Timestamp,
    in db: Database
  ) throws {
    let columns = Self.hopColumns.joined(separator: ", ")
    let placeholders = Array(repeating: "?", count: Self.hopColumns.count).joined(separator: ", ")
    let updates = Self.hopColumns.dropFirst().map { "\($0) = excluded.\($0)" }
      .joined(separator: ", ")
    for hop in hops {
      try db.execute(
        sql: """
          INSERT INTO sla_hop (shipment_id, \(columns)) VALUES (?, \(placeholders))
          ON CONFLICT (shipment_id, hop) DO UPDATE SET \(updates),
            at_risk_raised = CASE WHEN sla_hop.start_sequence = excluded.start_sequence
              THEN sla_hop.at_risk_raised ELSE 0 END,
            breach_raised = CASE WHEN sla_hop.start_sequence = excluded.start_sequence
              THEN sla_hop.breach_raised ELSE 0 END
          """,
        arguments: StatementArguments([shipmentID] + Self.values(hop))
      )
      if hop.verdict == .late {
        try Self.raise(
          .breach,
          whereClause: "shipment_id = ? AND hop = ? AND breach_raised = 0",
          arguments: [shipmentID, hop.hop.rawValue],
          now: now,
          in: db
        )
      }
    }
    let kept = hops.map(\.hop.rawValue)
    try db.execute(
      sql: """
        DELETE FROM sla_hop WHERE shipment_id = ?
        AND hop NOT IN (\(kept.map { _ in "?" }.joined(separator: ", ")))
        """,
      arguments: StatementArguments([shipmentID] + kept)
    )
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
      db,
      sql:
        "SELECT rowid FROM sla_hop \(index.map { "INDEXED BY \($0)" } ?? "") WHERE \(whereClause) LIMIT ?",
      arguments: arguments + [limit]
    )
    let columns = Self.hopColumns.joined(separator: ", ")
    for rowID in rowIDs {
      try db.execute(
        sql: """
          INSERT OR IGNORE INTO sla_alert (kind, raised_at, shipment_id, \(columns))
          SELECT ?, ?, shipment_id, \(columns) FROM sla_hop WHERE rowid = ?
          """,
        arguments: [kind.rawValue, now.microseconds, rowID]
      )
      try db.execute(sql: "UPDATE sla_hop SET \(flag) = 1 WHERE rowid = ?", arguments: [rowID])
    }
    return rowIDs.count
  }

  public func raiseDueAlerts(now: Timestamp, limit: Int) async throws -> [SlaAlert] {
    try await self.write { db in
      let before = try Int64.fetchOne(db, sql: "SELECT max(cursor) FROM sla_alert") ?? 0
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
  }

  public func alerts(after cursor: Int64, limit: Int) async throws -> [SlaAlert] {
    try await self.read { db in try Self.fetchAlerts(after: cursor, limit: limit, in: db) }
  }

  private static func fetchAlerts(
    after cursor: Int64,
    limit: Int,
    in db: Database
  ) throws
    -> [SlaAlert]
  {
    try Row.fetchAll(
      db,
      sql: """
        SELECT a.cursor, a.kind, a.raised_at, \(Self.selectHop(from: "a"))
        FROM sla_alert a JOIN shipment s ON s.id = a.shipment_id
        WHERE a.cursor > ? ORDER BY a.cursor LIMIT ?
        """,
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

  public func hopsForReport(
    endedFrom from: Timestamp,
    to: Timestamp,
    overdueAt: Timestamp
  ) async throws -> [HopTimeliness] {
    try await self.read { db in
      let select =
        "SELECT \(Self.selectHop(from: "h")) FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id"
      let ended = try Row.fetchAll(
        db,
        sql: "\(select) WHERE h.ended_at >= ? AND h.ended_at < ? AND h.verdict IS NOT NULL",
        arguments: [from.microseconds, to.microseconds]
      )
      let overdue = try Row.fetchAll(
        db,
        sql: "\(select) WHERE h.end_sequence IS NULL AND h.due_at <= ?",
        arguments: [overdueAt.microseconds]
      )
      return try (ended + overdue).map { try Self.decodeHop($0) }
    }
  }

  public func shipmentsWithHops(
    after number: TrackingNumber?,
    limit: Int
  ) async throws
    -> [TrackingNumber]
  {
    try await self.read { db in
      try String.fetchAll(
        db,
        sql: """
          SELECT DISTINCT s.tracking_number FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id
          WHERE s.tracking_number > ? ORDER BY s.tracking_number LIMIT ?
          """,
        arguments: [number?.rawValue ?? "", limit]
      ).map { try TrackingNumber(validating: $0) }
    }
  }

  public func storedHops(of number: TrackingNumber) async throws -> [HopTimeliness] {
    try await self.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT \(Self.selectHop(from: "h")) FROM sla_hop h JOIN shipment s ON s.id = h.shipment_id
          WHERE s.tracking_number = ? ORDER BY h.started_at
          """,
        arguments: [number.rawValue]
      ).map { try Self.decodeHop($0) }
    }
  }

  public func replaceHops(
    of number: TrackingNumber,
    with hops: [HopTimeliness],
    now: Timestamp
  ) async throws {
    try await self.write { db in
      guard let id = try Self.shipmentID(number, in: db) else {
        throw TrackingError.shipmentNotFound()
      }
      // A hop that now ended late gets its breach alert; running hops get theirs from the
      // monitor's next pass.
      try Self.updateHops(hops, shipmentID: id, now: now, in: db)
    }
  }

  public func atRiskCount(now: Timestamp) async throws -> Int {
    try await self.read { db in
      try Int.fetchOne(
        db,
        sql: """
          SELECT count(*) FROM sla_hop INDEXED BY sla_hop_running
          WHERE end_sequence IS NULL AND at_risk_at <= ?
          """,
        arguments: [now.microseconds]
      ) ?? 0
    }
  }
}

extension SQLiteShipmentStore {
  /// Copies a stored shipment under new numbers (no events), for the benchmark's million open
  /// shipments.
  @_spi(Benchmark)
  public func cloneForBenchmark(
    _ template: TrackingNumber,
    as numbers: [TrackingNumber]
  )
    async throws
  {
    try await self.write { db in
      let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(shipment)")
        .map { $0["name"] as String }
        .filter { $0 != "id" && $0 != "tracking_number" }
        .joined(separator: ", ")
      let statement = try db.makeStatement(
        sql: """
          INSERT INTO shipment (tracking_number, \(columns))
          SELECT ?, \(columns) FROM shipment WHERE tracking_number = ?
          """
      )
      for number in numbers {
        try statement.execute(arguments: [number.rawValue, template.rawValue])
      }
    }
  }

  /// Stores hops as they are, without alerts, for the benchmark.
  @_spi(Benchmark)
  public func insertForBenchmark(_ hops: [HopTimeliness]) async throws {
    try await self.write { db in
      let placeholders = Array(repeating: "?", count: Self.hopColumns.count)
        .joined(separator: ", ")
      let statement = try db.makeStatement(
        sql: """
          INSERT INTO sla_hop (shipment_id, \(Self.hopColumns.joined(separator: ", ")))
          SELECT id, \(placeholders) FROM shipment WHERE tracking_number = ?
          """
      )
      for hop in hops {
        try statement.execute(
          arguments: StatementArguments(Self.values(hop) + [hop.trackingNumber.rawValue])
        )
      }
    }
  }

  /// The at-risk count by a full scan of the hops (the benchmark's baseline).
  @_spi(Benchmark)
  public func atRiskCountByScan(now: Timestamp) async throws -> Int {
    try await self.read { db in
      try Int.fetchOne(
        db,
        sql: """
          SELECT count(*) FROM sla_hop NOT INDEXED WHERE end_sequence IS NULL AND at_risk_at <= ?
          """,
        arguments: [now.microseconds]
      ) ?? 0
    }
  }

  /// The query plan of the at-risk lookup, to show it uses the index.
  @_spi(Benchmark)
  public func atRiskPlan() async throws -> String {
    try await self.read { db in
      try Row.fetchAll(
        db,
        sql: """
          EXPLAIN QUERY PLAN SELECT rowid FROM sla_hop INDEXED BY sla_hop_at_risk
          WHERE end_sequence IS NULL AND at_risk_raised = 0 AND at_risk_at <= 0 LIMIT 1000
          """
      ).map { $0["detail"] as String }.joined(separator: "; ")
    }
  }
}
