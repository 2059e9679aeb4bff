import GRDB
public import Tracking

/// The ``IndicatorStore`` on SQLite: one grouped query over the shipments registered in the
/// period (the `shipment_by_created` index), with their events, handoffs and ratings.
public final class SQLiteIndicatorStore: IndicatorStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  public func indicators(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts] {
    let key =
      switch grouping {
      case .agency: "s.agency_code"
      case .postOffice: "s.origin_post_office"
      }
    // One entry per shipment of a covering index: the report flags its triggers keep
    // (schema v16, v18); no table row is read.
    let sql = """
      SELECT \(key) AS key,
        COUNT(*) AS received,
        SUM(s.service_type <> 'RESULT_ONLY') AS dossiers,
        SUM(s.report_digitized) AS digitized,
        SUM(s.report_electronic) AS electronic,
        SUM(s.report_electronic = 0 AND s.report_handed_over = 1) AS paper_only,
        SUM(s.report_rated) AS ratings,
        SUM(s.report_rated AND s.report_overall >= 4) AS satisfied,
        SUM(s.report_overall) AS overall_sum,
        SUM(s.report_complaint) AS complaints,
        SUM(s.report_papers) AS papers,
        SUM(s.report_reused) AS reused,
        SUM(s.report_reused > 0) AS with_reuse
      FROM shipment s INDEXED BY shipment_report_by_created
      WHERE s.created_at >= ? AND s.created_at < ?
      GROUP BY key ORDER BY key
      """
    return try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(sql: sql),
        arguments: [from.microseconds, before.microseconds]
      ).map { row in
        IndicatorCounts(
          key: row["key"],
          received: row["received"],
          dossiers: row["dossiers"],
          digitized: row["digitized"],
          electronicTransfers: row["electronic"],
          paperOnlyTransfers: row["paper_only"],
          ratings: row["ratings"],
          satisfied: row["satisfied"],
          overallSum: row["overall_sum"],
          complaints: row["complaints"],
          papers: row["papers"],
          reusedPapers: row["reused"],
          dossiersWithReuse: row["with_reuse"]
        )
      }
    }
  }

  public func staffTallies(
    occurredFrom from: Timestamp,
    before: Timestamp
  ) async throws -> [StaffTally] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT actor, location,
              SUM(kind = 'COLLECTED') AS received, SUM(kind = 'DELIVERED') AS delivered
            FROM shipment_event
            WHERE kind IN ('COLLECTED', 'DELIVERED') AND occurred_at >= ? AND occurred_at < ?
            GROUP BY actor, location ORDER BY actor, location
            """
        ),
        arguments: [from.microseconds, before.microseconds]
      ).map { row in
        StaffTally(
          actor: row["actor"],
          postOffice: row["location"],
          dossiersReceived: row["received"],
          resultsDelivered: row["delivered"]
        )
      }
    }
  }
}
