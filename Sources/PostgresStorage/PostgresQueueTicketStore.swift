import Foundation
import PostgresNIO
public import Tracking

/// The ``QueueTicketStore`` on PostgreSQL: one row per ticket (office, number and issue time
/// are the key, the request id is unique per caller), so two replicas recording one ticket at
/// once keep it once; waits aggregated per office or hour of day by one windowed query.
public struct PostgresQueueTicketStore: QueueTicketStore {
  let pool: PostgresPool

  /// A store on a migrated database.
  public init(pool: PostgresPool) {
    self.pool = pool
  }

  public func record(
    _ ticket: QueueTicket,
    key: IdempotencyKey
  ) async throws -> StoreOutcome<QueueTicket> {
    try await self.pool.transaction { connection in
      let inserted = try await connection.query(
        """
        INSERT INTO queue_ticket (post_office, number, issued_at, called_at, wait_seconds,
          issued_hour, tracking_number, recorded_by, request_id, fingerprint)
        VALUES (\(ticket.postOffice.rawValue), \(ticket.number), \(ticket.issuedAt.microseconds),
          \(ticket.calledAt.microseconds), \(ticket.waitSeconds), \(ticket.issuedHourInVietnam),
          \(ticket.trackingNumber?.rawValue), \(key.caller), \(key.requestID.rawValue),
          \(Data(key.fingerprint)))
        ON CONFLICT DO NOTHING
        RETURNING 1
        """,
        logger: self.pool.logger
      )
      for try await _ in inserted { return .applied(ticket) }
      // Kept before (by this request, or the same ticket by another): a replay if it agrees.
      let byRequest = try await connection.query(
        """
        SELECT fingerprint FROM queue_ticket
        WHERE recorded_by = \(key.caller) AND request_id = \(key.requestID.rawValue)
        """,
        logger: self.pool.logger
      )
      for try await fingerprint in byRequest.decode(Data.self) {
        guard fingerprint == Data(key.fingerprint) else { throw TrackingError.requestIDReused() }
        return .replayed(ticket)
      }
      let same = try await connection.query(
        """
        SELECT called_at, tracking_number FROM queue_ticket
        WHERE post_office = \(ticket.postOffice.rawValue) AND number = \(ticket.number)
          AND issued_at = \(ticket.issuedAt.microseconds)
        """,
        logger: self.pool.logger
      )
      for try await (calledAt, number) in same.decode((Int64, String?).self) {
        guard calledAt == ticket.calledAt.microseconds, number == ticket.trackingNumber?.rawValue
        else {
          throw TrackingError(
            code: .duplicate,
            message: "ticket_number was already recorded for this issue time with other times"
          )
        }
        return .replayed(ticket)
      }
      throw TrackingError(
        code: .storageFailure,
        message: "a queue ticket was neither kept nor found"
      )
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
      case .hourOfDay: "lpad(issued_hour::text, 2, '0')"
      }
    // Nearest rank, as on SQLite: the p-th percentile is the smallest wait whose rank n has
    // n ≥ p·count.
    let query = PostgresQuery(
      unsafeSQL: """
        WITH ranked AS (
          SELECT \(key) AS key, wait_seconds AS wait,
            ROW_NUMBER() OVER (PARTITION BY \(key) ORDER BY wait_seconds) AS n,
            COUNT(*) OVER (PARTITION BY \(key)) AS c
          FROM queue_ticket WHERE issued_at >= $1 AND issued_at < $2
        )
        SELECT key, c AS tickets, AVG(wait)::float8 AS mean, MAX(wait) AS longest,
          MIN(CASE WHEN n >= 0.5 * c THEN wait END) AS median,
          MIN(CASE WHEN n >= 0.9 * c THEN wait END) AS p90,
          COUNT(*) FILTER (WHERE wait <= $3) AS within
        FROM ranked GROUP BY key, c ORDER BY key
        """,
      binds: try Self.bindings(from.microseconds, before.microseconds, CounterWaitTarget.seconds)
    )
    return try await self.pool.withConnection { connection in
      let rows = try await connection.query(query, logger: self.pool.logger)
      var waits: [CounterWaitRow] = []
      for try await (key, tickets, mean, longest, median, p90, within) in rows.decode(
        (String, Int64, Double, Int64, Int64, Int64, Int64).self
      ) {
        waits.append(
          CounterWaitRow(
            key: key,
            tickets: Int(tickets),
            meanSeconds: mean,
            medianSeconds: median,
            p90Seconds: p90,
            longestSeconds: longest,
            withinTarget: Int(within)
          )
        )
      }
      return waits
    }
  }

  private static func bindings(_ values: Int64...) throws -> PostgresBindings {
    var bindings = PostgresBindings()
    for value in values { try bindings.append(value) }
    return bindings
  }
}
