import GRDB
public import Tracking

/// The ``HandoffStore`` on SQLite: the outbox rows queued and closed by ``ShipmentWrite``s, and
/// the dispatcher's and operators' updates. Every write publishes ``StoreTopic/outbox``.
public final class SQLiteHandoffStore: HandoffStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  /// Queues and closes handoffs inside the caller's transaction.
  static func apply(
    _ changes: [OutboxChange],
    shipmentID: Int64,
    at time: Timestamp,
    in db: Database
  ) throws {
    for change in changes {
      switch change {
      case .queue(let ticket):
        try db.cachedStatement(
          sql: """
            INSERT INTO handoff (handoff_id, shipment_id, agency_code, mode, status, next_attempt_at,
              queued_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """
        ).execute(
          arguments: [
            ticket.handoffID, shipmentID, ticket.agency.rawValue, ticket.mode.rawValue,
            HandoffStatus.pending.rawValue, time.microseconds, time.microseconds,
          ]
        )
      case .close(let handoffID, let status):
        // A pushed handoff closes after the delivery that succeeded: it counts as an attempt.
        try db.cachedStatement(
          sql: """
            UPDATE handoff SET status = ?, closed_at = ?, last_error = NULL,
              attempts = attempts + (mode = 'PUSH' AND status = 'PENDING')
            WHERE handoff_id = ?
            """
        ).execute(
          arguments: [status.rawValue, time.microseconds, handoffID]
        )
      }
    }
  }

  public func nextAttemptTime(agency: AgencyCode) async throws -> Timestamp? {
    try await self.database.read { db in
      try Int64.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT MIN(next_attempt_at) FROM handoff
            WHERE agency_code = ? AND status = ? AND mode = ?
            """
        ),
        arguments: [agency.rawValue, HandoffStatus.pending.rawValue, HandoffMode.push.rawValue]
      ).map(Timestamp.init(microseconds:))
    }
  }

  private static let columns = """
    h.cursor, h.handoff_id, s.tracking_number, h.agency_code, h.mode, h.status, h.attempts,
    h.next_attempt_at, h.last_error, h.queued_at, h.last_attempt_at
    FROM handoff h JOIN shipment s ON s.id = h.shipment_id
    """

  private static func decode(_ row: Row) throws -> Handoff {
    Handoff(
      cursor: row[0],
      id: row[1],
      trackingNumber: try TrackingNumber(validating: row[2]),
      agency: try AgencyCode(validating: row[3]),
      mode: try EventPayload.decode(row[4]),
      status: try EventPayload.decode(row[5]),
      attempts: row[6],
      nextAttemptAt: Timestamp(microseconds: row[7]),
      lastError: row[8],
      queuedAt: Timestamp(microseconds: row[9]),
      lastAttemptAt: (row[10] as Int64?).map(Timestamp.init(microseconds:))
    )
  }

  public func handoff(id: String) async throws -> Handoff? {
    try await self.database.read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT \(Self.columns) WHERE h.handoff_id = ?"),
        arguments: [id]
      )
      .map(Self.decode)
    }
  }

  public func dueHandoffs(agency: AgencyCode, now: Timestamp, limit: Int) async throws -> [Handoff]
  {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(Self.columns)
            WHERE h.status = ? AND h.mode = ? AND h.agency_code = ? AND h.next_attempt_at <= ?
            ORDER BY h.next_attempt_at, h.cursor LIMIT ?
            """
        ),
        arguments: [
          HandoffStatus.pending.rawValue, HandoffMode.push.rawValue, agency.rawValue,
          now.microseconds, limit,
        ]
      ).map(Self.decode)
    }
  }

  public func pendingHandoffs(
    agency: AgencyCode,
    after cursor: Int64,
    limit: Int
  ) async throws -> [Handoff] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(Self.columns)
            WHERE h.agency_code = ? AND h.status = ? AND h.cursor > ?
            ORDER BY h.cursor LIMIT ?
            """
        ),
        arguments: [agency.rawValue, HandoffStatus.pending.rawValue, cursor, limit]
      ).map(Self.decode)
    }
  }

  public func handoffs(
    agency: AgencyCode?,
    status: HandoffStatus?,
    limit: Int
  ) async throws -> [Handoff] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(Self.columns)
            WHERE (?1 IS NULL OR h.agency_code = ?1) AND (?2 IS NULL OR h.status = ?2)
            ORDER BY h.cursor DESC LIMIT ?3
            """
        ),
        arguments: [agency?.rawValue, status?.rawValue, limit]
      ).map(Self.decode)
    }
  }

  public func recordFailedAttempt(
    id: String,
    at time: Timestamp,
    error: String,
    nextAttemptAt: Timestamp,
    deadLetter: Bool
  ) async throws {
    try await self.database.write(publishing: [.outbox]) { db in
      // Only a pending handoff: an acknowledgement may have closed it meanwhile.
      try db.cachedStatement(
        sql: """
          UPDATE handoff SET attempts = attempts + 1, last_error = ?, last_attempt_at = ?,
            next_attempt_at = ?, status = ?
          WHERE handoff_id = ? AND status = ?
          """
      ).execute(
        arguments: [
          error, time.microseconds, nextAttemptAt.microseconds,
          (deadLetter ? HandoffStatus.dead : HandoffStatus.pending).rawValue, id,
          HandoffStatus.pending.rawValue,
        ]
      )
    }
  }

  public func retryDeadLetter(id: String, now: Timestamp) async throws -> Handoff? {
    try await self.database.write(publishing: [.outbox]) { db in
      guard
        let status = try String.fetchOne(
          db.cachedStatement(sql: "SELECT status FROM handoff WHERE handoff_id = ?"),
          arguments: [id]
        )
      else { return nil }
      guard status == HandoffStatus.dead.rawValue else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "handoff \(id) is \(status), not dead-lettered"
        )
      }
      try db.cachedStatement(
        sql: "UPDATE handoff SET status = ?, attempts = 0, next_attempt_at = ? WHERE handoff_id = ?"
      ).execute(
        arguments: [HandoffStatus.pending.rawValue, now.microseconds, id]
      )
      return try Row.fetchOne(
        db.cachedStatement(sql: "SELECT \(Self.columns) WHERE h.handoff_id = ?"),
        arguments: [id]
      ).map(Self.decode)
    }
  }

  public func channelSummaries() async throws -> [ChannelSummary] {
    try await self.database.read { db in
      let rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT agency_code,
              SUM(status = 'PENDING'),
              SUM(status = 'PENDING' AND attempts > 0),
              SUM(status = 'DEAD'),
              MAX(last_attempt_at),
              MAX(CASE WHEN status IN ('ACCEPTED', 'REJECTED') THEN closed_at END),
              MIN(CASE WHEN status = 'PENDING' THEN queued_at END)
            FROM handoff GROUP BY agency_code ORDER BY agency_code
            """
        )
      )
      return try rows.map { row in
        let agency: String = row[0]
        let lastError = try String.fetchOne(
          db.cachedStatement(
            sql: """
              SELECT last_error FROM handoff
              WHERE agency_code = ? AND status IN ('PENDING', 'DEAD') AND last_error IS NOT NULL
              ORDER BY last_attempt_at DESC LIMIT 1
              """
          ),
          arguments: [agency]
        )
        return ChannelSummary(
          agency: try AgencyCode(validating: agency),
          queueDepth: row[1],
          retrying: row[2],
          deadLetters: row[3],
          lastError: lastError,
          lastAttemptAt: (row[4] as Int64?).map(Timestamp.init(microseconds:)),
          lastSuccessAt: (row[5] as Int64?).map(Timestamp.init(microseconds:)),
          oldestPendingQueuedAt: (row[6] as Int64?).map(Timestamp.init(microseconds:))
        )
      }
    }
  }
}
