import GRDB
public import Tracking

/// The ``NotificationStore`` on SQLite: messages queued by ``ShipmentWrite``s in their
/// transaction, consents recorded with registrations and changes, and the dispatcher's and
/// operators' updates. Every write publishes ``StoreTopic/notifications``.
public final class SQLiteNotificationStore: NotificationStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  /// Queues messages inside the caller's transaction; one already queued (a replayed write)
  /// stays as it is.
  static func queue(
    _ requests: [NotificationRequest],
    shipmentID: Int64,
    at time: Timestamp,
    in db: Database
  ) throws {
    for request in requests {
      try db.cachedStatement(
        sql: """
          INSERT INTO notification (message_id, shipment_id, event_sequence, kind, channel,
            subscription, status, next_attempt_at, created_at)
          VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?)
          ON CONFLICT (message_id) DO NOTHING
          """
      ).execute(
        arguments: [
          request.id, shipmentID, request.eventSequence, request.kind.rawValue,
          request.destination.channelName, request.destination.subscription, time.microseconds,
          time.microseconds,
        ]
      )
    }
  }

  /// Keeps a notification choice inside the caller's transaction.
  static func record(_ consent: NotificationConsent, shipmentID: Int64, in db: Database) throws {
    try db.cachedStatement(
      sql: """
        INSERT INTO notification_consent (shipment_id, channel, changed_at, source, actor)
        VALUES (?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: [
        shipmentID, consent.channel.rawValue, consent.changedAt.microseconds,
        consent.source.rawValue, consent.actor,
      ]
    )
  }

  private static let columns = """
    n.message_id, s.tracking_number, n.event_sequence, n.kind, n.channel, n.subscription,
    n.status, n.attempts, n.last_error, n.created_at, n.next_attempt_at, n.last_attempt_at,
    n.sent_at
    FROM notification n JOIN shipment s ON s.id = n.shipment_id
    """

  private static func decode(_ row: Row) throws -> OutboundNotification {
    do {
      return OutboundNotification(
        id: row[0],
        trackingNumber: try TrackingNumber(validating: row[1]),
        eventSequence: row[2],
        kind: try ShipmentRows.decodeEnum(row[3]),
        destination: try NotificationDestination(channel: row[4], subscription: row[5]),
        status: try ShipmentRows.decodeEnum(row[6]),
        attempts: row[7],
        lastError: row[8],
        createdAt: Timestamp(microseconds: row[9]),
        nextAttemptAt: Timestamp(microseconds: row[10]),
        lastAttemptAt: (row[11] as Int64?).map(Timestamp.init(microseconds:)),
        sentAt: (row[12] as Int64?).map(Timestamp.init(microseconds:))
      )
    } catch let error as InvalidValue {
      throw Corruption("notification \(row[0] as String): \(error)")
    }
  }

  public func dueNotifications(now: Timestamp, limit: Int) async throws -> [OutboundNotification] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(Self.columns)
            WHERE n.status = 'PENDING' AND n.next_attempt_at <= ?
            ORDER BY n.next_attempt_at, n.seq LIMIT ?
            """
        ),
        arguments: [now.microseconds, limit]
      ).map(Self.decode)
    }
  }

  public func nextNotificationTime() async throws -> Timestamp? {
    try await self.database.read { db in
      try Int64.fetchOne(
        db.cachedStatement(
          sql: "SELECT MIN(next_attempt_at) FROM notification WHERE status = 'PENDING'"
        )
      ).map(Timestamp.init(microseconds:))
    }
  }

  public func notification(id: String) async throws -> OutboundNotification? {
    try await self.database.read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT \(Self.columns) WHERE n.message_id = ?"),
        arguments: [id]
      ).map(Self.decode)
    }
  }

  public func notifications(
    matching query: NotificationQuery
  ) async throws -> [OutboundNotification] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(Self.columns)
            WHERE (?1 IS NULL OR n.status = ?1) AND (?2 IS NULL OR n.channel = ?2)
              AND (?3 IS NULL OR s.tracking_number = ?3)
            ORDER BY n.seq DESC LIMIT ?4
            """
        ),
        arguments: [
          query.status?.rawValue, query.channel, query.trackingNumber?.rawValue, query.limit,
        ]
      ).map(Self.decode)
    }
  }

  public func recordSent(id: String, at time: Timestamp) async throws {
    try await self.database.write(publishing: [.notifications]) { db in
      try db.cachedStatement(
        sql: """
          UPDATE notification SET status = 'SENT', attempts = attempts + 1, sent_at = ?1,
            last_attempt_at = ?1
          WHERE message_id = ?2 AND status = 'PENDING'
          """
      ).execute(arguments: [time.microseconds, id])
    }
  }

  public func recordFailedAttempt(
    id: String,
    at time: Timestamp,
    error: String,
    nextAttemptAt: Timestamp,
    deadLetter: Bool
  ) async throws {
    try await self.database.write(publishing: [.notifications]) { db in
      try db.cachedStatement(
        sql: """
          UPDATE notification SET attempts = attempts + 1, last_error = ?, last_attempt_at = ?,
            next_attempt_at = ?, status = ?
          WHERE message_id = ? AND status = 'PENDING'
          """
      ).execute(
        arguments: [
          String(error.prefix(1000)), time.microseconds, nextAttemptAt.microseconds,
          (deadLetter ? NotificationStatus.dead : .pending).rawValue, id,
        ]
      )
    }
  }

  public func postpone(id: String, until time: Timestamp) async throws {
    try await self.database.write(publishing: [.notifications]) { db in
      try db.cachedStatement(
        sql: """
          UPDATE notification SET next_attempt_at = ? WHERE message_id = ? AND status = 'PENDING'
          """
      ).execute(arguments: [time.microseconds, id])
    }
  }

  public func cancel(id: String, at time: Timestamp, reason: String) async throws {
    try await self.database.write(publishing: [.notifications]) { db in
      try db.cachedStatement(
        sql: """
          UPDATE notification SET status = 'CANCELLED', last_error = ?, last_attempt_at = ?
          WHERE message_id = ? AND status IN ('PENDING', 'DEAD')
          """
      ).execute(arguments: [reason, time.microseconds, id])
    }
  }

  public func retryDeadLetter(id: String, now: Timestamp) async throws -> OutboundNotification? {
    try await self.database.write(publishing: [.notifications]) { db in
      guard
        let status = try String.fetchOne(
          db.cachedStatement(sql: "SELECT status FROM notification WHERE message_id = ?"),
          arguments: [id]
        )
      else { return nil }
      guard status == NotificationStatus.dead.rawValue else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "message \(id) is \(status), not dead-lettered"
        )
      }
      try db.cachedStatement(
        sql: """
          UPDATE notification SET status = 'PENDING', attempts = 0, next_attempt_at = ?
          WHERE message_id = ?
          """
      ).execute(arguments: [now.microseconds, id])
      return try Row.fetchOne(
        db.cachedStatement(sql: "SELECT \(Self.columns) WHERE n.message_id = ?"),
        arguments: [id]
      ).map(Self.decode)
    }
  }

  public func summaries() async throws -> [NotificationDestinationSummary] {
    try await self.database.read { db in
      let rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT channel, subscription,
              SUM(status = 'PENDING'), SUM(status = 'PENDING' AND attempts > 0),
              SUM(status = 'DEAD'), SUM(status = 'SENT'), SUM(status = 'CANCELLED'),
              MAX(last_attempt_at), MAX(sent_at),
              MIN(CASE WHEN status = 'PENDING' THEN created_at END)
            FROM notification GROUP BY channel, subscription ORDER BY channel, subscription
            """
        )
      )
      return try rows.map { row in
        let channel: String = row[0]
        let subscription: String? = row[1]
        let lastError = try String.fetchOne(
          db.cachedStatement(
            sql: """
              SELECT last_error FROM notification
              WHERE channel = ?1 AND subscription IS ?2 AND status IN ('PENDING', 'DEAD')
                AND last_error IS NOT NULL
              ORDER BY last_attempt_at DESC LIMIT 1
              """
          ),
          arguments: [channel, subscription]
        )
        let destination: NotificationDestination
        do {
          destination = try NotificationDestination(channel: channel, subscription: subscription)
        } catch {
          throw Corruption("notification destination \(channel)")
        }
        return NotificationDestinationSummary(
          destination: destination,
          pending: row[2],
          retrying: row[3],
          dead: row[4],
          sent: row[5],
          cancelled: row[6],
          lastError: lastError,
          lastAttemptAt: (row[7] as Int64?).map(Timestamp.init(microseconds:)),
          lastSentAt: (row[8] as Int64?).map(Timestamp.init(microseconds:)),
          oldestPendingCreatedAt: (row[9] as Int64?).map(Timestamp.init(microseconds:))
        )
      }
    }
  }

  public func consents(of number: TrackingNumber) async throws -> [NotificationConsent] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT c.channel, c.changed_at, c.source, c.actor
            FROM notification_consent c JOIN shipment s ON s.id = c.shipment_id
            WHERE s.tracking_number = ? ORDER BY c.id
            """
        ),
        arguments: [number.rawValue]
      ).map { row in
        NotificationConsent(
          channel: try ShipmentRows.decodeEnum(row[0]),
          changedAt: Timestamp(microseconds: row[1]),
          source: try ShipmentRows.decodeEnum(row[2]),
          actor: row[3]
        )
      }
    }
  }
}
