import Foundation
import GRDB
public import Tracking

extension SQLiteBenchmarkFixtures {
  /// Fills a year of report data in SQL from one registered template: `count` shipments over
  /// the 365 days from `start`, spread over `agencies` agencies and `offices` post offices, each
  /// with its events (registered, collected, two scans, digitized for 9 in 10, handed over),
  /// a pull handoff for 4 in 5, a rating for 1 in 3 (1 in 10 of them a complaint), a reused
  /// paper for 1 in 7, and two ended hops (the dossier leg, the agency's processing) with
  /// verdicts spread over early, on time and late.
  public func fillReportYear(
    template: TrackingNumber,
    count: Int,
    start: Timestamp,
    agencies: Int,
    offices: Int
  ) async throws {
    let step = 365 * 86_400 * 1_000_000 / Int64(max(1, count))
    try await self.database.write { db in
      let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(shipment)")
        .map { $0["name"] as String }
        .filter {
          !["id", "tracking_number", "agency_code", "origin_post_office", "created_at"]
            .contains($0)
        }
      let list = columns.joined(separator: ", ")
      let fromTemplate = columns.map { "t.\($0)" }.joined(separator: ", ")
      try db.execute(
        sql: """
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          INSERT INTO shipment (tracking_number, agency_code, origin_post_office, created_at, \(list))
          SELECT printf('BM%09dVN', i), printf('AG.%02d', i % ?), printf('PO%04d', i % ?),
            ? + (i - 1) * ?, \(fromTemplate)
          FROM n, shipment t WHERE t.tracking_number = ?
          """,
        arguments: [count, agencies, offices, start.microseconds, step, template.rawValue]
      )
      let events: [(Int, String, String, String)] = [
        (1, "REGISTERED", "REQUESTED", "1"), (2, "COLLECTED", "COLLECTED", "1"),
        (3, "SCANNED", "COLLECTED", "1"), (4, "SCANNED", "COLLECTED", "1"),
        (5, "DIGITIZED", "DIGITIZED", "s.id % 10 <> 0"),
        (6, "HANDED_TO_AGENCY", "HANDED_TO_AGENCY", "1"),
        (7, "SUPPLEMENT_REQUESTED", "SUPPLEMENT_REQUESTED", "s.id % 6 = 0"),
      ]
      for (sequence, kind, state, condition) in events {
        try db.execute(
          sql: """
            INSERT INTO shipment_event (shipment_id, sequence, kind, from_state, to_state,
              occurred_at, recorded_at, actor, location)
            SELECT s.id, ?, ?, NULL, ?, s.created_at + ?, s.created_at + ?,
              printf('spiffe://benchmark/staff/%s/%d', s.origin_post_office, s.id % 3),
              s.origin_post_office
            FROM shipment s WHERE s.tracking_number LIKE 'BM%' AND \(condition)
            """,
          arguments: [sequence, kind, state, sequence * 60_000_000, sequence * 60_000_000]
        )
      }
      try db.execute(
        sql: """
          INSERT INTO scan_document (document_code, shipment_id, sequence, document_id, sha256,
            size, content_type, reused_from)
          SELECT s.tracking_number || '-TO_KHAI-1', s.id, 3, 'TO_KHAI', printf('%064d', s.id),
            9000, 'application/pdf', NULL
          FROM shipment s WHERE s.tracking_number LIKE 'BM%';
          INSERT INTO scan_document (document_code, shipment_id, sequence, document_id, sha256,
            size, content_type, reused_from)
          SELECT s.tracking_number || '-GIAY_TO_TUY_THAN-1', s.id, 4, 'GIAY_TO_TUY_THAN',
            printf('%064d', s.id + 1), 8000, 'application/pdf',
            CASE WHEN s.id % 7 = 0 THEN 'EARLIER-GIAY_TO_TUY_THAN-1' END
          FROM shipment s WHERE s.tracking_number LIKE 'BM%';
          INSERT INTO handoff (handoff_id, shipment_id, agency_code, mode, status,
            next_attempt_at, queued_at, closed_at)
          SELECT s.tracking_number || '-H1', s.id, s.agency_code, 'PULL', 'ACKNOWLEDGED',
            s.created_at, s.created_at, s.created_at + 3600000000
          FROM shipment s WHERE s.tracking_number LIKE 'BM%' AND s.id % 5 <> 0;
          INSERT INTO service_rating (tracking_number, rated_at, on_time, staff_attitude, trips,
            extra_costs_asked, overall, comment, complaint_requested, complaint)
          SELECT s.tracking_number, s.created_at + 86400000000 * 5, 1, 5, 1, 0,
            CASE WHEN s.id % 30 = 0 THEN 1 ELSE 4 + s.id % 2 END, '', 0, s.id % 30 = 0
          FROM shipment s WHERE s.tracking_number LIKE 'BM%' AND s.id % 3 = 0;
          """
      )
      for (hop, days, ends) in [("DOSSIER_LEG", 1, 1), ("AGENCY_PROCESSING", 3, 4)] {
        // Verdicts by the shipment: early, on time and late in turn.
        try db.execute(
          sql: """
            INSERT INTO sla_hop (shipment_id, hop, start_sequence, start_kind, started_at,
              working_days, counted_from, due_date, due_at, at_risk_at, calendar_versions,
              provisional, policy_version, route_class, appointment_slip, end_sequence, ended_at,
              verdict, stopped_by, working_minutes, agency_code, post_office, procedure_code)
            SELECT s.id, ?, 2, 'COLLECTED', s.created_at, ?, '2026-01-01', '2026-01-02',
              s.created_at + ? * 86400000000, s.created_at, 'vn-2026', 0, 'benchmark', NULL, 0,
              6, s.created_at + ? * 86400000000 + (s.id % 3 - 1) * 86400000000,
              CASE s.id % 3 WHEN 0 THEN 'EARLY' WHEN 1 THEN 'ON_TIME' ELSE 'LATE' END, NULL,
              480 * ?, s.agency_code, s.origin_post_office, s.procedure_code
            FROM shipment s WHERE s.tracking_number LIKE 'BM%'
            """,
          arguments: [hop, days, ends, ends, days]
        )
      }
    }
  }
}

extension SQLiteBenchmarkFixtures {
  /// The indicators by agency computed the way the service must not: every shipment of the
  /// period and its events, handoffs, scans and rating read into memory, then grouped (the
  /// report benchmark's baseline; the same counts as the grouped query).
  public func indicatorsByLoading(
    from: Timestamp,
    before: Timestamp
  ) async throws
    -> [IndicatorCounts]
  {
    try await self.database.read { db in
      var groups: [String: IndicatorCounts] = [:]
      let shipments = try Row.fetchCursor(
        db,
        sql: """
          SELECT s.id, s.agency_code, s.service_type, r.overall, r.complaint
          FROM shipment s LEFT JOIN service_rating r ON r.tracking_number = s.tracking_number
          WHERE s.created_at >= ? AND s.created_at < ?
          """,
        arguments: [from.microseconds, before.microseconds]
      )
      let events = try db.makeStatement(
        sql: "SELECT kind FROM shipment_event WHERE shipment_id = ?"
      )
      let handoffs = try db.makeStatement(sql: "SELECT 1 FROM handoff WHERE shipment_id = ?")
      let scans = try db.makeStatement(
        sql: "SELECT document_id, reused_from FROM scan_document WHERE shipment_id = ?"
      )
      while let row = try shipments.next() {
        let id: Int64 = row["id"]
        let key: String = row["agency_code"]
        let kinds = Set(try String.fetchAll(events, arguments: [id]))
        let handedOff = try Int.fetchOne(handoffs, arguments: [id]) != nil
        let items = try Row.fetchAll(scans, arguments: [id])
        let papers = Set(items.map { $0["document_id"] as String })
        let reused = Set(
          items.filter { ($0["reused_from"] as String?) != nil }.map { $0["document_id"] as String }
        )
        let overall: Int? = row["overall"]
        var counts =
          groups[key]
          ?? IndicatorCounts(
            key: key,
            received: 0,
            dossiers: 0,
            digitized: 0,
            electronicTransfers: 0,
            paperOnlyTransfers: 0,
            ratings: 0,
            satisfied: 0,
            overallSum: 0,
            complaints: 0
          )
        counts.received += 1
        if (row["service_type"] as String) != "RESULT_ONLY" { counts.dossiers += 1 }
        if kinds.contains("DIGITIZED") { counts.digitized += 1 }
        if handedOff {
          counts.electronicTransfers += 1
        } else if kinds.contains("HANDED_TO_AGENCY") {
          counts.paperOnlyTransfers += 1
        }
        if let overall {
          counts.ratings += 1
          counts.overallSum += overall
          if overall >= 4 { counts.satisfied += 1 }
          if (row["complaint"] as Bool?) == true { counts.complaints += 1 }
        }
        counts.papers += papers.count
        counts.reusedPapers += reused.count
        if !reused.isEmpty { counts.dossiersWithReuse += 1 }
        groups[key] = counts
      }
      return groups.values.sorted { $0.key < $1.key }
    }
  }
}
