import Foundation
import Logging
import Persistence
import PostgresNIO
public import Tracking

/// The ``NotificationStore`` on PostgreSQL: messages queued by shipment writes in their
/// transaction, consents kept append-only, and the outbox shared by the replicas'
/// dispatchers. ``dueNotifications(now:limit:)`` claims what it returns (`FOR UPDATE SKIP
/// LOCKED`, then a lease until `now` + ``lease``), so one message is not sent by two replicas;
/// a replica that dies mid-send leaves a lease that runs out, and the message is due again.
public struct PostgresNotificationStore: NotificationStore {
  let pool: PostgresPool
  let feed: ChangeFeed
  /// Who this replica is in `claimed_by`.
  let replica: String
  /// How long a claimed message stays this replica's: longer than one send.
  public let lease: Duration

  /// A store on a migrated database.
  public init(pool: PostgresPool, feed: ChangeFeed, lease: Duration = .seconds(120)) {
    self.pool = pool
    self.feed = feed
    self.replica = UUID().uuidString
    self.lease = lease
  }

  var logger: Logger { self.pool.logger }

  /// Queues messages inside the caller's transaction; one already queued stays as it is.
  static func queue(
    _ requests: [NotificationRequest],
    shipmentID: Int64,
    at time: Timestamp,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws {
    for request in requests {
      try await connection.query(
        """
        INSERT INTO notification (message_id, shipment_id, event_sequence, kind, channel,
          subscription, status, next_attempt_at, created_at)
        VALUES (\(request.id), \(shipmentID), \(request.eventSequence), \(request.kind.rawValue),
          \(request.destination.channelName), \(request.destination.subscription), 'PENDING',
          \(time.microseconds), \(time.microseconds))
        ON CONFLICT (message_id) DO NOTHING
        """,
        logger: logger
      )
    }
  }

  /// Keeps a notification choice inside the caller's transaction and makes it the shipment's.
  static func record(
    _ consent: NotificationConsent,
    shipmentID: Int64,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws {
    try await connection.query(
      """
      INSERT INTO notification_consent (shipment_id, channel, changed_at, source, actor)
      VALUES (\(shipmentID), \(consent.channel.rawValue), \(consent.changedAt.microseconds),
        \(consent.source.rawValue), \(consent.actor))
      """,
      logger: logger
    )
    try await connection.query(
      "UPDATE shipment SET notify_channel = \(consent.channel.rawValue) WHERE id = \(shipmentID)",
      logger: logger
    )
  }

  private static let columns = """
    n.message_id, s.tracking_number, n.event_sequence, n.kind, n.channel, n.subscription,
    n.status, n.attempts, n.last_error, n.created_at, n.next_attempt_at, n.last_attempt_at,
    n.sent_at
    FROM notification n JOIN shipment s ON s.id = n.shipment_id
    """

  private static func notifications(
    _ query: PostgresQuery,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [OutboundNotification] {
    let rows = try await connection.query(query, logger: logger)
    var found: [OutboundNotification] = []
    for try await row in rows {
      let c = Columns(row)
      let id: String = try c["message_id"]
      do {
        found.append(
          OutboundNotification(
            id: id,
            trackingNumber: try TrackingNumber(validating: try c["tracking_number"]),
            eventSequence: try c["event_sequence"],
            kind: try SealedRecords.decode(try c["kind"]),
            destination: try NotificationDestination(
              channel: try c["channel"],
              subscription: try c["subscription", as: String?.self]
            ),
            status: try SealedRecords.decode(try c["status"]),
            attempts: try c["attempts"],
            lastError: try c["last_error", as: String?.self],
            createdAt: Timestamp(microseconds: try c["created_at"]),
            nextAttemptAt: Timestamp(microseconds: try c["next_attempt_at"]),
            lastAttemptAt: try c["last_attempt_at", as: Int64?.self].map(
              Timestamp.init(microseconds:)
            ),
            sentAt: try c["sent_at", as: Int64?.self].map(Timestamp.init(microseconds:))
          )
        )
      } catch let error as InvalidValue {
        throw Corruption("notification \(id): \(error)")
      }
    }
    return found
  }

  private func notifications(_ query: PostgresQuery) async throws -> [OutboundNotification] {
    try await self.pool.withConnection { connection in
      try await Self.notifications(query, on: connection, logger: self.logger)
    }
  }

  /// Runs an update of the outbox and announces it to every replica.
  private func update(_ query: PostgresQuery) async throws {
    try await self.pool.transaction { connection in
      try await connection.query(query, logger: self.logger)
      try await PostgresChangeListener.notify([.notifications], on: connection, logger: self.logger)
    }
    self.feed.publish([.notifications])
  }

  public func dueNotifications(now: Timestamp, limit: Int) async throws -> [OutboundNotification] {
    let until = now.advanced(by: self.lease).microseconds
    return try await self.pool.transaction { connection in
      try await connection.query(
        """
        UPDATE notification SET claimed_by = \(self.replica), claimed_until = \(until)
        WHERE seq IN (
          SELECT seq FROM notification
          WHERE status = 'PENDING' AND next_attempt_at <= \(now.microseconds)
            AND (claimed_by IS NULL OR claimed_by = \(self.replica)
              OR claimed_until <= \(now.microseconds))
          ORDER BY next_attempt_at, seq LIMIT \(Int64(limit))
          FOR UPDATE SKIP LOCKED
        )
        """,
        logger: self.logger
      )
      return try await Self.notifications(
        """
        SELECT \(unescaped: Self.columns)
        WHERE n.claimed_by = \(self.replica) AND n.claimed_until = \(until)
          AND n.status = 'PENDING'
        ORDER BY n.next_attempt_at, n.seq
        """,
        on: connection,
        logger: self.logger
      )
    }
  }

  /// The next time a message is due for this replica: its attempt time, or when another
  /// replica's claim on it runs out.
  public func nextNotificationTime() async throws -> Timestamp? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT MIN(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> \(self.replica)
                        THEN GREATEST(next_attempt_at, claimed_until)
                        ELSE next_attempt_at END)
        FROM notification WHERE status = 'PENDING'
        """,
        logger: self.logger
      )
      for try await time in rows.decode(Int64?.self) {
        return time.map(Timestamp.init(microseconds:))
      }
      return nil
    }
  }

  public func notification(id: String) async throws -> OutboundNotification? {
    try await self.notifications("SELECT \(unescaped: Self.columns) WHERE n.message_id = \(id)")
      .first
  }

  public func notifications(
    matching query: NotificationQuery
  ) async throws -> [OutboundNotification] {
    let status = query.status?.rawValue
    let number = query.trackingNumber?.rawValue
    return try await self.notifications(
      """
      SELECT \(unescaped: Self.columns)
      WHERE (\(status)::text IS NULL OR n.status = \(status))
        AND (\(query.channel)::text IS NULL OR n.channel = \(query.channel))
        AND (\(number)::text IS NULL OR s.tracking_number = \(number))
      ORDER BY n.seq DESC LIMIT \(Int64(query.limit))
      """
    )
  }

  public func recordSent(id: String, at time: Timestamp) async throws {
    try await self.update(
      """
      UPDATE notification SET status = 'SENT', attempts = attempts + 1,
        sent_at = \(time.microseconds), last_attempt_at = \(time.microseconds),
        claimed_by = NULL, claimed_until = NULL
      WHERE message_id = \(id) AND status = 'PENDING'
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
    let status = (deadLetter ? NotificationStatus.dead : .pending).rawValue
    try await self.update(
      """
      UPDATE notification SET attempts = attempts + 1, last_error = \(String(error.prefix(1000))),
        last_attempt_at = \(time.microseconds), next_attempt_at = \(nextAttemptAt.microseconds),
        status = \(status), claimed_by = NULL, claimed_until = NULL
      WHERE message_id = \(id) AND status = 'PENDING'
      """
    )
  }

  public func postpone(id: String, until time: Timestamp) async throws {
    try await self.update(
      """
      UPDATE notification SET next_attempt_at = \(time.microseconds),
        claimed_by = NULL, claimed_until = NULL
      WHERE message_id = \(id) AND status = 'PENDING'
      """
    )
  }

  public func cancel(id: String, at time: Timestamp, reason: String) async throws {
    try await self.update(
      """
      UPDATE notification SET status = 'CANCELLED', last_error = \(reason),
        last_attempt_at = \(time.microseconds), claimed_by = NULL, claimed_until = NULL
      WHERE message_id = \(id) AND status IN ('PENDING', 'DEAD')
      """
    )
  }

  public func retryDeadLetter(id: String, now: Timestamp) async throws -> OutboundNotification? {
    let retried = try await self.pool.transaction { connection -> OutboundNotification? in
      guard
        try await PostgresDeadLetters.retry(
          id,
          in: PostgresDeadLetters.notifications,
          now: now,
          on: connection,
          logger: self.logger
        )
      else { return nil }
      try await PostgresChangeListener.notify([.notifications], on: connection, logger: self.logger)
      return try await Self.notifications(
        "SELECT \(unescaped: Self.columns) WHERE n.message_id = \(id)",
        on: connection,
        logger: self.logger
      ).first
    }
    if retried != nil { self.feed.publish([.notifications]) }
    return retried
  }

  public func summaries() async throws -> [NotificationDestinationSummary] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT channel, subscription,
          COUNT(*) FILTER (WHERE status = 'PENDING')::bigint AS pending,
          COUNT(*) FILTER (WHERE status = 'PENDING' AND attempts > 0)::bigint AS retrying,
          COUNT(*) FILTER (WHERE status = 'DEAD')::bigint AS dead,
          COUNT(*) FILTER (WHERE status = 'SENT')::bigint AS sent,
          COUNT(*) FILTER (WHERE status = 'CANCELLED')::bigint AS cancelled,
          MAX(last_attempt_at) AS attempted, MAX(sent_at) AS last_sent,
          MIN(created_at) FILTER (WHERE status = 'PENDING') AS oldest,
          (ARRAY_AGG(last_error ORDER BY last_attempt_at DESC NULLS LAST)
            FILTER (WHERE status IN ('PENDING', 'DEAD') AND last_error IS NOT NULL))[1]
            AS last_error
        FROM notification GROUP BY channel, subscription ORDER BY channel, subscription
        """,
        logger: self.logger
      )
      var summaries: [NotificationDestinationSummary] = []
      for try await row in rows {
        let c = Columns(row)
        let channel: String = try c["channel"]
        let subscription = try c["subscription", as: String?.self]
        func time(_ name: String) throws -> Timestamp? {
          try c[name, as: Int64?.self].map(Timestamp.init(microseconds:))
        }
        let destination: NotificationDestination
        do {
          destination = try NotificationDestination(channel: channel, subscription: subscription)
        } catch {
          throw Corruption("notification destination \(channel)")
        }
        summaries.append(
          NotificationDestinationSummary(
            destination: destination,
            pending: try c["pending"],
            retrying: try c["retrying"],
            dead: try c["dead"],
            sent: try c["sent"],
            cancelled: try c["cancelled"],
            lastError: try c["last_error", as: String?.self],
            lastAttemptAt: try time("attempted"),
            lastSentAt: try time("last_sent"),
            oldestPendingCreatedAt: try time("oldest")
          )
        )
      }
      return summaries
    }
  }

  public func consents(of number: TrackingNumber) async throws -> [NotificationConsent] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT c.channel, c.changed_at, c.source, c.actor
        FROM notification_consent c JOIN shipment s ON s.id = c.shipment_id
        WHERE s.tracking_number = \(number.rawValue) ORDER BY c.id
        """,
        logger: self.logger
      )
      var consents: [NotificationConsent] = []
      for try await (channel, changedAt, source, actor)
        in rows.decode((String, Int64, String, String?).self)
      {
        consents.append(
          NotificationConsent(
            channel: try SealedRecords.decode(channel),
            changedAt: Timestamp(microseconds: changedAt),
            source: try SealedRecords.decode(source),
            actor: actor
          )
        )
      }
      return consents
    }
  }
}
