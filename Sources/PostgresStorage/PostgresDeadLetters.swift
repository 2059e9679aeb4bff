import Logging
import PostgresNIO
import Tracking

/// What the handoff and notification outboxes share: an operator's retry of a dead-lettered
/// row, inside the caller's transaction.
enum PostgresDeadLetters {
  /// One outbox table: its name, the column its ids are in, and what its rows are called.
  struct Outbox {
    var table: String
    var idColumn: String
    var noun: String
  }

  static let handoffs = Outbox(table: "handoff", idColumn: "handoff_id", noun: "handoff")
  static let notifications = Outbox(
    table: "notification",
    idColumn: "message_id",
    noun: "message"
  )

  /// Makes a dead-lettered row pending again, due at `now`, with no attempt and no claim.
  /// - Returns: `false` when there is no such row.
  /// - Throws: ``TrackingError`` `.failedPrecondition` when the row is not dead-lettered.
  static func retry(
    _ id: String,
    in outbox: Outbox,
    now: Timestamp,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> Bool {
    var select = PostgresQuery(
      unsafeSQL: "SELECT status FROM \(outbox.table) WHERE \(outbox.idColumn) = $1 FOR UPDATE"
    )
    select.binds.append(id)
    var found: String?
    for try await status in try await connection.query(select, logger: logger).decode(String.self) {
      found = status
    }
    guard let found else { return false }
    guard found == "DEAD" else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "\(outbox.noun) \(id) is \(found), not dead-lettered"
      )
    }
    var update = PostgresQuery(
      unsafeSQL: """
        UPDATE \(outbox.table) SET status = 'PENDING', attempts = 0, next_attempt_at = $1,
          claimed_by = NULL, claimed_until = NULL
        WHERE \(outbox.idColumn) = $2
        """
    )
    update.binds.append(now.microseconds)
    update.binds.append(id)
    try await connection.query(update, logger: logger)
    return true
  }
}
