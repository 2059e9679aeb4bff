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
    // What a dossier is scored by is kept on its shipment row by triggers (schema v16, v18):
    // the worst verdict of its ended legs (2 early, 1 on time, 0 late), the earliest due time
    // of a running one (past due by now counts as late), its contacts and complaint. Both
    // sides are covering indexes.
    let sql = """
      WITH dossier AS (
        SELECT \(key) AS key, a.verdict AS agency,
          CASE WHEN s.report_open_due < ? THEN 0 ELSE s.report_units_ended END AS units,
          s.report_contacts AS contacts,
          s.report_complaint AS complaint
        FROM sla_hop a INDEXED BY sla_hop_report
          JOIN shipment s INDEXED BY shipment_report_scores ON s.id = a.shipment_id
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

  /// One grouped query over the covering index of the shipments registered in the period, with
  /// only the four sums the shares need (the full indicators carry twelve: 1.45 s for a year of
  /// 1,000,000 shipments in the report benchmark).
  public func shareCounts(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts] {
    let key =
      switch grouping {
      case .agency: "agency_code"
      case .postOffice: "origin_post_office"
      }
    return try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(key) AS key, COUNT(*) AS received,
              SUM(service_type <> 'RESULT_ONLY') AS dossiers, SUM(report_digitized) AS digitized,
              SUM(report_rated) AS ratings, SUM(report_rated AND report_overall >= 4) AS satisfied
            FROM shipment INDEXED BY shipment_report_by_created
            WHERE created_at >= ? AND created_at < ?
            GROUP BY key
            """
        ),
        arguments: [from.microseconds, before.microseconds]
      ).map { row in
        IndicatorCounts(
          key: row["key"],
          received: row["received"],
          dossiers: row["dossiers"],
          digitized: row["digitized"],
          electronicTransfers: 0,
          paperOnlyTransfers: 0,
          ratings: row["ratings"],
          satisfied: row["satisfied"],
          overallSum: 0,
          complaints: 0
        )
      }
    }
  }

  /// One grouped query over the hops that ended in the period (the `sla_hop_report` index).
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
            FROM sla_hop INDEXED BY sla_hop_report
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
