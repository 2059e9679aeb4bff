import GRDB
public import Tracking

extension SQLiteIndicatorStore {
  /// One grouped query over the agency processing hops that ended in the period (the
  /// `sla_hop_ended` index), each dossier classed by its hops, its contacts and its rating.
  public func scoreTallies(
    processedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping,
    now: Timestamp
  ) async throws -> [ScoreTally] {
    let key =
      switch grouping {
      case .agency: "a.agency_code"
      case .postOffice: "a.post_office"
      }
    // A dossier's contacts are kept on its shipment row (schema v16).
    let sql = """
      WITH dossier AS (
        SELECT \(key) AS key, a.verdict AS agency,
          (SELECT MIN(CASE WHEN h.verdict = 'EARLY' THEN 2 WHEN h.verdict = 'ON_TIME' THEN 1
                           WHEN h.verdict = 'LATE' THEN 0
                           WHEN h.end_sequence IS NULL AND h.due_at < ? THEN 0 END)
           FROM sla_hop h WHERE h.shipment_id = a.shipment_id) AS units,
          s.report_contacts AS contacts,
          COALESCE(r.complaint, 0) AS complaint
        FROM sla_hop a
          JOIN shipment s ON s.id = a.shipment_id
          LEFT JOIN service_rating r ON r.tracking_number = s.tracking_number
        WHERE a.ended_at >= ? AND a.ended_at < ?
          AND a.hop = 'AGENCY_PROCESSING' AND a.verdict IS NOT NULL
      )
      SELECT key, COUNT(*) AS dossiers,
        SUM(agency = 'EARLY') AS agency_early, SUM(agency = 'ON_TIME') AS agency_on_time,
        SUM(units = 2) AS units_early, SUM(units = 1) AS units_on_time,
        SUM(contacts = 0) AS no_contact, SUM(contacts = 1) AS one_contact,
        SUM(units = 2 AND complaint = 0) AS early_no_complaint,
        SUM(units = 1 AND complaint = 0) AS on_time_no_complaint
      FROM dossier GROUP BY key ORDER BY key
      """
    return try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(sql: sql),
        arguments: [now.microseconds, from.microseconds, before.microseconds]
      ).map { row in
        ScoreTally(
          key: row["key"],
          dossiers: row["dossiers"],
          agencyEarly: row["agency_early"],
          agencyOnTime: row["agency_on_time"],
          unitsEarly: row["units_early"],
          unitsOnTime: row["units_on_time"],
          noContact: row["no_contact"],
          oneContact: row["one_contact"],
          earlyWithoutComplaint: row["early_no_complaint"],
          onTimeWithoutComplaint: row["on_time_no_complaint"]
        )
      }
    }
  }

  /// One grouped query over the hops that ended in the period (the `sla_hop_ended` index).
  public func postalLegs(
    endedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [String: (onTime: Int, ended: Int)] {
    let key =
      switch grouping {
      case .agency: "agency_code"
      case .postOffice: "post_office"
      }
    return try await self.database.read { db in
      var legs: [String: (onTime: Int, ended: Int)] = [:]
      for row in try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(key) AS key, COUNT(*) AS ended, SUM(verdict <> 'LATE') AS on_time
            FROM sla_hop
            WHERE ended_at >= ? AND ended_at < ? AND verdict IS NOT NULL
              AND hop <> 'AGENCY_PROCESSING'
            GROUP BY key
            """
        ),
        arguments: [from.microseconds, before.microseconds]
      ) {
        legs[row["key"]] = (row["on_time"], row["ended"])
      }
      return legs
    }
  }
}
