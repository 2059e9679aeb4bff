import Logging
import Persistence
import PostgresNIO
public import Tracking

/// The ``IndicatorStore`` on PostgreSQL: grouped queries over the shipments registered in the
/// period (or the hops ended in it), each shipment's flags read from its events, handoffs,
/// scans, hops and rating by indexed subqueries — the same counts as SQLite's, which keeps
/// them on the shipment row by triggers.
public struct PostgresIndicatorStore: IndicatorStore {
  let pool: PostgresPool

  /// A store on a migrated database.
  public init(pool: PostgresPool) {
    self.pool = pool
  }

  var logger: Logger { self.pool.logger }

  /// Per shipment `s`, the flags the reports count (SQLite's `report_*` columns).
  private static let flags = """
    s.agency_code, s.origin_post_office, s.service_type, s.created_at, s.id,
    EXISTS (SELECT 1 FROM shipment_event e WHERE e.shipment_id = s.id AND e.kind = 'DIGITIZED')
      AS digitized,
    EXISTS (SELECT 1 FROM shipment_event e
            WHERE e.shipment_id = s.id AND e.kind = 'HANDED_TO_AGENCY') AS handed_over,
    EXISTS (SELECT 1 FROM handoff h WHERE h.shipment_id = s.id) AS electronic,
    (SELECT count(*) FROM shipment_event e WHERE e.shipment_id = s.id
      AND e.kind IN ('GUIDED_INCOMPLETE', 'SUPPLEMENT_REQUESTED')) AS contacts,
    (SELECT count(DISTINCT d.document_id) FROM scan_document d WHERE d.shipment_id = s.id)
      AS papers,
    (SELECT count(DISTINCT d.document_id) FROM scan_document d
      WHERE d.shipment_id = s.id AND d.reused_from IS NOT NULL) AS reused,
    r.tracking_number IS NOT NULL AS rated, COALESCE(r.overall, 0) AS overall,
    COALESCE(r.complaint, false) AS complaint
    FROM shipment s LEFT JOIN service_rating r ON r.tracking_number = s.tracking_number
    """

  private static func key(_ grouping: IndicatorGrouping) -> String {
    switch grouping {
    case .agency: "agency_code"
    case .postOffice: "origin_post_office"
    }
  }

  public func indicators(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        WITH f AS (
          SELECT \(unescaped: Self.flags)
          WHERE s.created_at >= \(from.microseconds) AND s.created_at < \(before.microseconds)
        )
        SELECT \(unescaped: Self.key(grouping)) AS key, count(*) AS received,
          count(*) FILTER (WHERE service_type <> 'RESULT_ONLY') AS dossiers,
          count(*) FILTER (WHERE digitized) AS digitized,
          count(*) FILTER (WHERE electronic) AS electronic,
          count(*) FILTER (WHERE NOT electronic AND handed_over) AS paper_only,
          count(*) FILTER (WHERE rated) AS ratings,
          count(*) FILTER (WHERE rated AND overall >= 4) AS satisfied,
          COALESCE(sum(overall), 0)::bigint AS overall_sum,
          count(*) FILTER (WHERE complaint) AS complaints,
          COALESCE(sum(papers), 0)::bigint AS papers,
          COALESCE(sum(reused), 0)::bigint AS reused,
          count(*) FILTER (WHERE reused > 0) AS with_reuse
        FROM f GROUP BY key ORDER BY key
        """,
        logger: self.logger
      )
      var counts: [IndicatorCounts] = []
      for try await row in rows {
        let c = Columns(row)
        counts.append(
          IndicatorCounts(
            key: try c["key"],
            received: try c["received"],
            dossiers: try c["dossiers"],
            digitized: try c["digitized"],
            electronicTransfers: try c["electronic"],
            paperOnlyTransfers: try c["paper_only"],
            ratings: try c["ratings"],
            satisfied: try c["satisfied"],
            overallSum: try c["overall_sum"],
            complaints: try c["complaints"],
            papers: try c["papers"],
            reusedPapers: try c["reused"],
            dossiersWithReuse: try c["with_reuse"]
          )
        )
      }
      return counts
    }
  }

  public func shareCounts(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts] {
    try await self.indicators(registeredFrom: from, before: before, grouping: grouping).map {
      IndicatorCounts(
        key: $0.key,
        received: $0.received,
        dossiers: $0.dossiers,
        digitized: $0.digitized,
        electronicTransfers: 0,
        paperOnlyTransfers: 0,
        ratings: $0.ratings,
        satisfied: $0.satisfied,
        overallSum: 0,
        complaints: 0
      )
    }
  }

  public func staffTallies(
    occurredFrom from: Timestamp,
    before: Timestamp
  ) async throws -> [StaffTally] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT actor, location,
          count(*) FILTER (WHERE kind = 'COLLECTED'), count(*) FILTER (WHERE kind = 'DELIVERED')
        FROM shipment_event
        WHERE kind IN ('COLLECTED', 'DELIVERED') AND occurred_at >= \(from.microseconds)
          AND occurred_at < \(before.microseconds)
        GROUP BY actor, location ORDER BY actor, location
        """,
        logger: self.logger
      )
      var tallies: [StaffTally] = []
      for try await (actor, location, received, delivered)
        in rows.decode((String, String, Int, Int).self)
      {
        tallies.append(
          StaffTally(
            actor: actor,
            postOffice: location,
            dossiersReceived: received,
            resultsDelivered: delivered
          )
        )
      }
      return tallies
    }
  }

  public func scoreTallies(
    processedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping,
    now: Timestamp
  ) async throws -> [ScoreTally] {
    let key = grouping == .agency ? "a.agency_code" : "a.post_office"
    return try await self.pool.withConnection { connection in
      // A dossier is classed by its agency hop's verdict, the worst verdict of its ended legs
      // (2 early, 1 on time, 0 late; a running leg past due at `now` is late), its contacts
      // and its complaint — as on SQLite.
      let rows = try await connection.query(
        """
        WITH dossier AS (
          SELECT \(unescaped: key) AS key, a.verdict AS agency,
            CASE WHEN (SELECT MIN(h.due_at) FROM sla_hop h
                       WHERE h.shipment_id = a.shipment_id AND h.end_sequence IS NULL)
                      < \(now.microseconds) THEN 0
              ELSE (SELECT MIN(CASE h.verdict WHEN 'EARLY' THEN 2 WHEN 'ON_TIME' THEN 1
                                              WHEN 'LATE' THEN 0 END)
                    FROM sla_hop h WHERE h.shipment_id = a.shipment_id
                      AND h.verdict IS NOT NULL) END AS units,
            (SELECT count(*) FROM shipment_event e WHERE e.shipment_id = a.shipment_id
              AND e.kind IN ('GUIDED_INCOMPLETE', 'SUPPLEMENT_REQUESTED')) AS contacts,
            COALESCE((SELECT r.complaint FROM service_rating r JOIN shipment s
                        ON r.tracking_number = s.tracking_number
                      WHERE s.id = a.shipment_id), false) AS complaint
          FROM sla_hop a
          WHERE a.hop = 'AGENCY_PROCESSING' AND a.ended_at >= \(from.microseconds)
            AND a.ended_at < \(before.microseconds) AND a.verdict IS NOT NULL
        )
        SELECT key, count(*) AS dossiers,
          count(*) FILTER (WHERE agency = 'EARLY') AS agency_early,
          count(*) FILTER (WHERE agency = 'ON_TIME') AS agency_on_time,
          count(*) FILTER (WHERE units = 2) AS units_early,
          count(*) FILTER (WHERE units = 1) AS units_on_time,
          count(*) FILTER (WHERE contacts = 0) AS no_contact,
          count(*) FILTER (WHERE contacts = 1) AS one_contact,
          count(*) FILTER (WHERE units = 2 AND NOT complaint) AS early_no_complaint,
          count(*) FILTER (WHERE units = 1 AND NOT complaint) AS on_time_no_complaint
        FROM dossier GROUP BY key ORDER BY key
        """,
        logger: self.logger
      )
      var tallies: [ScoreTally] = []
      for try await row in rows {
        let c = Columns(row)
        tallies.append(
          ScoreTally(
            key: try c["key"],
            dossiers: try c["dossiers"],
            agencyEarly: try c["agency_early"],
            agencyOnTime: try c["agency_on_time"],
            unitsEarly: try c["units_early"],
            unitsOnTime: try c["units_on_time"],
            noContact: try c["no_contact"],
            oneContact: try c["one_contact"],
            earlyWithoutComplaint: try c["early_no_complaint"],
            onTimeWithoutComplaint: try c["on_time_no_complaint"]
          )
        )
      }
      return tallies
    }
  }

  public func postalLegs(
    endedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [String: (onTime: Int, ended: Int)] {
    let key = grouping == .agency ? "agency_code" : "post_office"
    return try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT \(unescaped: key), count(*) FILTER (WHERE verdict <> 'LATE'), count(*)
        FROM sla_hop
        WHERE hop <> 'AGENCY_PROCESSING' AND ended_at >= \(from.microseconds)
          AND ended_at < \(before.microseconds) AND verdict IS NOT NULL
        GROUP BY 1
        """,
        logger: self.logger
      )
      var legs: [String: (onTime: Int, ended: Int)] = [:]
      for try await (key, onTime, ended) in rows.decode((String, Int, Int).self) {
        legs[key] = (onTime, ended)
      }
      return legs
    }
  }
}
