import Foundation
import GRDB
public import Tracking

/// The ``QueueTicketStore`` on SQLite: one row per ticket (office, number and issue time are
/// the key), aggregated per office or hour by one windowed query over the issue-time index.
public final class SQLiteQueueTicketStore: QueueTicketStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  public func record(
    _ ticket: QueueTicket,
    key: IdempotencyKey
  ) async throws -> StoreOutcome<QueueTicket> {
    try await self.database.write { db in
      if let earlier = try Row.fetchOne(
        db.cachedStatement(
          sql: "SELECT fingerprint FROM queue_ticket WHERE recorded_by = ? AND request_id = ?"
        ),
        arguments: [key.caller, key.requestID.rawValue]
      ) {
        guard (earlier["fingerprint"] as Data) == Data(key.fingerprint) else {
          throw TrackingError.requestIDReused()
        }
        return .replayed(ticket)
      }
      if let same = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT called_at, tracking_number FROM queue_ticket
            WHERE post_office = ? AND number = ? AND issued_at = ?
            """
        ),
        arguments: [ticket.postOffice.rawValue, ticket.number, ticket.issuedAt.microseconds]
      ) {
        guard (same["called_at"] as Int64) == ticket.calledAt.microseconds,
          (same["tracking_number"] as String?) == ticket.trackingNumber?.rawValue
        else {
          throw TrackingError(
            code: .duplicate,
            message: "ticket_number was already recorded for this issue time with other times"
          )
        }
        return .replayed(ticket)
      }
      try db.cachedStatement(
        sql: """
          INSERT INTO queue_ticket (post_office, number, issued_at, called_at, wait_seconds,
            issued_hour, tracking_number, recorded_by, request_id, fingerprint)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          ticket.postOffice.rawValue, ticket.number, ticket.issuedAt.microseconds,
          ticket.calledAt.microseconds, ticket.waitSeconds, ticket.issuedHourInVietnam,
          ticket.trackingNumber?.rawValue, key.caller, key.requestID.rawValue,
          Data(key.fingerprint),
        ]
      )
      return .applied(ticket)
    }
  }

  public func counterWaits(
    issuedFrom from: Timestamp,
    before: Timestamp,
    grouping: CounterWaitGrouping
  ) async throws -> [CounterWaitRow] {
    let key =
      switch grouping {
      case .postOffice: "post_office"
      case .hourOfDay: "printf('%02d', issued_hour)"
      }
    // Nearest rank: the p-th percentile is the smallest wait whose rank n has n ≥ p·count.
    let sql = """
      WITH ranked AS (
        SELECT \(key) AS key, wait_seconds AS wait,
          ROW_NUMBER() OVER (PARTITION BY \(key) ORDER BY wait_seconds) AS n,
          COUNT(*) OVER (PARTITION BY \(key)) AS c
        FROM queue_ticket WHERE issued_at >= ? AND issued_at < ?
      )
      SELECT key, c AS tickets, AVG(wait) AS mean, MAX(wait) AS longest,
        MIN(CASE WHEN n >= 0.5 * c THEN wait END) AS median,
        MIN(CASE WHEN n >= 0.9 * c THEN wait END) AS p90,
        SUM(wait <= ?) AS within
      FROM ranked GROUP BY key ORDER BY key
      """
    return try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(sql: sql),
        arguments: [from.microseconds, before.microseconds, CounterWaitTarget.seconds]
      ).map { row in
        CounterWaitRow(
          key: row["key"],
          tickets: row["tickets"],
          meanSeconds: row["mean"],
          medianSeconds: row["median"],
          p90Seconds: row["p90"],
          longestSeconds: row["longest"],
          withinTarget: row["within"]
        )
      }
    }
  }
}
