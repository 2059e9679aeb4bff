import Foundation
import Logging
import Persistence
public import PostgresNIO
public import Tracking

/// The ``HandoffStore`` on PostgreSQL: the outbox rows queued and closed by shipment writes,
/// shared by the replicas' dispatchers. ``dueHandoffs(agency:now:limit:)`` claims what it
/// returns (`FOR UPDATE SKIP LOCKED`, then a lease until `now` + ``lease``): another replica
/// skips those rows, so one handoff is not pushed by two replicas at once; a replica that
/// dies mid-delivery leaves a lease that runs out, and the row is due again for everyone.
/// A recorded attempt or the closing write ends the claim.
public struct PostgresHandoffStore: HandoffStore {
  let pool: PostgresPool
  let feed: ChangeFeed
  /// Who this replica is in `claimed_by`.
  let replica: String
  /// How long a claim keeps other replicas away: longer than one delivery attempt.
  public let lease: Duration

  /// A store on a migrated database.
  /// - Parameters:
  ///   - feed: Where this replica publishes its outbox changes.
  ///   - lease: How long a claimed handoff stays this replica's (default 2 minutes).
  public init(pool: PostgresPool, feed: ChangeFeed, lease: Duration = .seconds(120)) {
    self.pool = pool
    self.feed = feed
    self.replica = UUID().uuidString
    self.lease = lease
  }

  var logger: Logger { self.pool.logger }

  /// The advisory transaction lock handoffs are queued under.
  static let queueLockKey: Int64 = 7_400_180_004

  /// Queues and closes handoffs inside the caller's transaction.
  static func apply(
    _ changes: [OutboxChange],
    shipmentID: Int64,
    at time: Timestamp,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws {
    for change in changes {
      switch change {
      case .queue(let ticket):
        // Numbered under a transaction lock: cursors are in commit order, so an agency
        // pulling "after cursor n" never skips a handoff another replica committed late.
        try await connection.query(
          "SELECT pg_advisory_xact_lock(\(Self.queueLockKey))",
          logger: logger
        )
        try await connection.query(
          """
          INSERT INTO handoff (handoff_id, shipment_id, agency_code, mode, status,
            next_attempt_at, queued_at)
          VALUES (\(ticket.handoffID), \(shipmentID), \(ticket.agency.rawValue),
            \(ticket.mode.rawValue), \(HandoffStatus.pending.rawValue), \(time.microseconds),
            \(time.microseconds))
          """,
          logger: logger
        )
      case .close(let handoffID, let status):
        // A pushed handoff closes after the delivery that succeeded: it counts as an attempt.
        try await connection.query(
          """
          UPDATE handoff SET status = \(status.rawValue), closed_at = \(time.microseconds),
            last_error = NULL, claimed_by = NULL, claimed_until = NULL,
            attempts = attempts + (CASE WHEN mode = 'PUSH' AND status = 'PENDING' THEN 1 ELSE 0 END)
          WHERE handoff_id = \(handoffID)
          """,
          logger: logger
        )
      }
    }
  }

  private static let columns = """
    h.cursor, h.handoff_id, s.tracking_number, h.agency_code, h.mode, h.status, h.attempts,
    h.next_attempt_at, h.last_error, h.queued_at, h.last_attempt_at
    FROM handoff h JOIN shipment s ON s.id = h.shipment_id
    """

  private func handoffs(_ query: PostgresQuery) async throws -> [Handoff] {
    try await self.pool.withConnection { connection in
      try await Self.handoffs(query, on: connection, logger: self.logger)
    }
  }

  private static func handoffs(
    _ query: PostgresQuery,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [Handoff] {
    let rows = try await connection.query(query, logger: logger)
    var handoffs: [Handoff] = []
    for try await row in rows {
      let c = Columns(row)
      handoffs.append(
        Handoff(
          cursor: try c["cursor"],
          id: try c["handoff_id"],
          trackingNumber: try TrackingNumber(validating: try c["tracking_number"]),
          agency: try AgencyCode(validating: try c["agency_code"]),
          mode: try SealedRecords.decode(try c["mode"]),
          status: try SealedRecords.decode(try c["status"]),
          attempts: try c["attempts"],
          nextAttemptAt: Timestamp(microseconds: try c["next_attempt_at"]),
          lastError: try c["last_error"],
          queuedAt: Timestamp(microseconds: try c["queued_at"]),
          lastAttemptAt: try c["last_attempt_at", as: Int64?.self].map(
            Timestamp.init(microseconds:)
          )
        )
      )
    }
    return handoffs
  }

  public func handoff(id: String) async throws -> Handoff? {
    try await self.handoffs("SELECT \(unescaped: Self.columns) WHERE h.handoff_id = \(id)").first
  }

  public func dueHandoffs(agency: AgencyCode, now: Timestamp, limit: Int) async throws -> [Handoff]
  {
    let until = now.advanced(by: self.lease).microseconds
    return try await self.pool.transaction { connection in
      try await connection.query(
        """
        UPDATE handoff SET claimed_by = \(self.replica), claimed_until = \(until)
        WHERE cursor IN (
          SELECT cursor FROM handoff
          WHERE status = 'PENDING' AND mode = 'PUSH' AND agency_code = \(agency.rawValue)
            AND next_attempt_at <= \(now.microseconds)
            AND (claimed_by IS NULL OR claimed_by = \(self.replica)
              OR claimed_until <= \(now.microseconds))
          ORDER BY next_attempt_at, cursor LIMIT \(Int64(limit))
          FOR UPDATE SKIP LOCKED
        )
        """,
        logger: self.logger
      )
      return try await Self.handoffs(
        """
        SELECT \(unescaped: Self.columns)
        WHERE h.claimed_by = \(self.replica) AND h.claimed_until = \(until)
          AND h.status = 'PENDING' AND h.agency_code = \(agency.rawValue)
        ORDER BY h.next_attempt_at, h.cursor
        """,
        on: connection,
        logger: self.logger
      )
    }
  }

  /// The next time a handoff of `agency` is due for this replica: its attempt time, or when
  /// another replica's claim on it runs out.
  public func nextAttemptTime(agency: AgencyCode) async throws -> Timestamp? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT MIN(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> \(self.replica)
                        THEN GREATEST(next_attempt_at, claimed_until)
                        ELSE next_attempt_at END)
        FROM handoff WHERE agency_code = \(agency.rawValue) AND status = 'PENDING' AND mode = 'PUSH'
        """,
        logger: self.logger
      )
      for try await time in rows.decode(Int64?.self) {
        return time.map(Timestamp.init(microseconds:))
      }
      return nil
    }
  }

  public func pendingHandoffs(
    agency: AgencyCode,
    after cursor: Int64,
    limit: Int
  ) async throws -> [Handoff] {
    try await self.handoffs(
      """
      SELECT \(unescaped: Self.columns)
      WHERE h.agency_code = \(agency.rawValue) AND h.status = 'PENDING' AND h.cursor > \(cursor)
      ORDER BY h.cursor LIMIT \(Int64(limit))
      """
    )
  }

  public func handoffs(
    agency: AgencyCode?,
    status: HandoffStatus?,
    limit: Int
  ) async throws -> [Handoff] {
    try await self.handoffs(
      """
      SELECT \(unescaped: Self.columns)
      WHERE (\(agency?.rawValue)::text IS NULL OR h.agency_code = \(agency?.rawValue))
        AND (\(status?.rawValue)::text IS NULL OR h.status = \(status?.rawValue))
      ORDER BY h.cursor DESC LIMIT \(Int64(limit))
      """
    )
  }

  public func recordFailedAttempt(
    id: String,
    at time: Timestamp,
    error: String,
    nextAttemptAt: Timestamp,
    deadLetter: Bool
  ) async throws {
    let status = deadLetter ? HandoffStatus.dead : HandoffStatus.pending
    try await self.pool.transaction { connection in
      // Only a pending handoff: an acknowledgement may have closed it meanwhile.
      try await connection.query(
        """
        UPDATE handoff SET attempts = attempts + 1, last_error = \(error),
          last_attempt_at = \(time.microseconds), next_attempt_at = \(nextAttemptAt.microseconds),
          status = \(status.rawValue), claimed_by = NULL, claimed_until = NULL
        WHERE handoff_id = \(id) AND status = 'PENDING'
        """,
        logger: self.logger
      )
      try await PostgresChangeListener.notify([.outbox], on: connection, logger: self.logger)
    }
    self.feed.publish([.outbox])
  }

  public func retryDeadLetter(id: String, now: Timestamp) async throws -> Handoff? {
    let retried = try await self.pool.transaction { connection -> Handoff? in
      guard
        try await PostgresDeadLetters.retry(
          id,
          in: PostgresDeadLetters.handoffs,
          now: now,
          on: connection,
          logger: self.logger
        )
      else { return nil }
      try await PostgresChangeListener.notify([.outbox], on: connection, logger: self.logger)
      return try await Self.handoffs(
        "SELECT \(unescaped: Self.columns) WHERE h.handoff_id = \(id)",
        on: connection,
        logger: self.logger
      ).first
    }
    if retried != nil { self.feed.publish([.outbox]) }
    return retried
  }

  public func channelSummaries() async throws -> [ChannelSummary] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT agency_code,
          COUNT(*) FILTER (WHERE status = 'PENDING')::bigint,
          COUNT(*) FILTER (WHERE status = 'PENDING' AND attempts > 0)::bigint,
          COUNT(*) FILTER (WHERE status = 'DEAD')::bigint,
          MAX(last_attempt_at),
          MAX(closed_at) FILTER (WHERE status IN ('ACCEPTED', 'REJECTED')),
          MIN(queued_at) FILTER (WHERE status = 'PENDING'),
          (ARRAY_AGG(last_error ORDER BY last_attempt_at DESC NULLS LAST)
            FILTER (WHERE status IN ('PENDING', 'DEAD') AND last_error IS NOT NULL))[1]
        FROM handoff GROUP BY agency_code ORDER BY agency_code
        """,
        logger: self.logger
      )
      var summaries: [ChannelSummary] = []
      for try await (agency, depth, retrying, dead, attempted, succeeded, oldest, error)
        in rows.decode((String, Int64, Int64, Int64, Int64?, Int64?, Int64?, String?).self)
      {
        summaries.append(
          ChannelSummary(
            agency: try AgencyCode(validating: agency),
            queueDepth: Int(depth),
            retrying: Int(retrying),
            deadLetters: Int(dead),
            lastError: error,
            lastAttemptAt: attempted.map(Timestamp.init(microseconds:)),
            lastSuccessAt: succeeded.map(Timestamp.init(microseconds:)),
            oldestPendingQueuedAt: oldest.map(Timestamp.init(microseconds:))
          )
        )
      }
      return summaries
    }
  }
}
