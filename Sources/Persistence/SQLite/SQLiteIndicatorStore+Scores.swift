import GRDB
public import Tracking

extension SQLiteIndicatorStore {
  /// One grouped query over the agency processing hops that ended in the period, each dossier
  /// classed by its hops, its contacts and its rating. The index leads with the hop and the
  /// group, so the rows come grouped (no sort) and each group is read in one run.
  public func scoreTallies(
    processedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping,
    now: Timestamp
  ) async throws -> [ScoreTally] {
    let (key, index) =
      switch grouping {
      case .agency: ("a.agency_code", "sla_hop_report_by_agency")
      case .postOffice: ("a.post_office", "sla_hop_report_by_office")
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
        FROM sla_hop a INDEXED BY \(index)
          JOIN shipment s INDEXED BY shipment_report_scores ON s.id = a.shipment_id
        WHERE a.hop = 'AGENCY_PROCESSING' AND a.ended_at >= ? AND a.ended_at < ?
          AND a.verdict IS NOT NULL
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

  /// One grouped query with only the four sums the shares need (the full indicators carry
  /// twelve), over a covering index that leads with the group, so no sort.
  public func shareCounts(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts] {
    let (key, index) =
      switch grouping {
      case .agency: ("agency_code", "shipment_shares_by_agency")
      case .postOffice: ("origin_post_office", "shipment_shares_by_office")
      }
    return try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(key) AS key, COUNT(*) AS received,
              SUM(service_type <> 'RESULT_ONLY') AS dossiers, SUM(report_digitized) AS digitized,
              SUM(report_rated) AS ratings, SUM(report_rated AND report_overall >= 4) AS satisfied
            FROM shipment INDEXED BY \(index)
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

  /// One grouped query over the postal legs that ended in the period, per leg kind and group
  /// in the order of an index that leads with them (no sort); the kinds are added up here.
  public func postalLegs(
    endedFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [String: (onTime: Int, ended: Int)] {
    let (key, index) =
      switch grouping {
      case .agency: ("agency_code", "sla_hop_report_by_agency")
      case .postOffice: ("post_office", "sla_hop_report_by_office")
      }
    return try await self.database.read { db in
      var legs: [String: (onTime: Int, ended: Int)] = [:]
      for row in try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(key) AS key, COUNT(*) AS ended, SUM(verdict <> 'LATE') AS on_time
            FROM sla_hop INDEXED BY \(index)
            WHERE hop <> 'AGENCY_PROCESSING' AND ended_at >= ? AND ended_at < ?
              AND verdict IS NOT NULL
            GROUP BY hop, key
            """
        ),
        arguments: [from.microseconds, before.microseconds]
      ) {
        let sum = legs[row["key"], default: (0, 0)]
        legs[row["key"]] = (sum.onTime + row["on_time"], sum.ended + row["ended"])
      }
      return legs
    }
  }
}
