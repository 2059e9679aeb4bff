/// Why a message is sent: the moments of a dossier's path that a citizen (or a system that
/// follows dossiers) is told about.
public enum NotificationKind: String, Hashable, Sendable, CaseIterable {
  /// The post received the dossier (`COLLECTED`).
  case received = "RECEIVED"
  /// The dossier was filed at the agency: its acceptance, or the appointment slip brought back
  /// (with the appointment date when the agency gave one).
  case filed = "FILED"
  /// The agency asks for a supplement (with the list).
  case supplementRequested = "SUPPLEMENT_REQUESTED"
  /// The result is ready at the agency.
  case resultReady = "RESULT_READY"
  /// A delivery attempt failed: the citizen is invited to collect at the post office.
  case deliveryAttempt = "DELIVERY_ATTEMPT"
  /// The result went back to the agency after the invitations.
  case returned = "RETURNED"
}

/// Where a message goes.
public enum NotificationDestination: Hashable, Sendable, CustomStringConvertible {
  /// The citizen's mobile number, by SMS.
  case sms
  /// The citizen's mobile number, by a Zalo ZNS template message.
  case zalo
  /// A subscribed system's webhook (the subscription's id).
  case webhook(String)

  /// `SMS`, `ZALO` or `WEBHOOK`.
  public var channelName: String {
    switch self {
    case .sms: "SMS"
    case .zalo: "ZALO"
    case .webhook: "WEBHOOK"
    }
  }

  /// The webhook subscription, for a webhook.
  public var subscription: String? {
    if case .webhook(let id) = self { return id }
    return nil
  }

  /// A destination from its stored parts.
  /// - Throws: ``InvalidValue`` for an unknown channel or a webhook without subscription.
  public init(channel: String, subscription: String?) throws {
    switch (channel, subscription) {
    case ("SMS", nil): self = .sms
    case ("ZALO", nil): self = .zalo
    case ("WEBHOOK", .some(let id)) where !id.isEmpty: self = .webhook(id)
    default: throw InvalidValue("unknown notification destination \(channel)")
    }
  }

  public var description: String {
    switch self {
    case .sms: "sms"
    case .zalo: "zalo"
    case .webhook(let id): "webhook:\(id)"
    }
  }
}

/// Where a message stands in the outbox.
public enum NotificationStatus: String, Hashable, Sendable, CaseIterable {
  /// Waiting for its (next) attempt.
  case pending = "PENDING"
  /// The receiver took it.
  case sent = "SENT"
  /// Attempts exhausted; waits for an operator.
  case dead = "DEAD"
  /// Never to be sent: the citizen's personal data was erased meanwhile.
  case cancelled = "CANCELLED"
}

/// A message the domain queues with a write: one event, one destination. It carries no
/// personal data; the text is made from the shipment's stored event when it is sent.
public struct NotificationRequest: Hashable, Sendable {
  /// Stable across attempts and restarts: what receivers drop repeats by.
  public var id: String
  /// The event it tells about.
  public var eventSequence: Int
  /// Why.
  public var kind: NotificationKind
  /// Where.
  public var destination: NotificationDestination

  /// Creates a request.
  public init(
    id: String,
    eventSequence: Int,
    kind: NotificationKind,
    destination: NotificationDestination
  ) {
    self.id = id
    self.eventSequence = eventSequence
    self.kind = kind
    self.destination = destination
  }

  /// The message id of an event's message to a destination: the same for the same event and
  /// destination, so a replayed write cannot queue it twice.
  public static func id(
    _ number: TrackingNumber,
    sequence: Int,
    destination: NotificationDestination
  ) -> String {
    let target =
      switch destination {
      case .sms: "sms"
      case .zalo: "zalo"
      case .webhook(let id): "wh-\(id)"
      }
    return "msg_\(number.rawValue)_\(sequence)_\(target)"
  }
}

/// One message of the outbox as stored.
public struct OutboundNotification: Hashable, Sendable {
  /// The message id.
  public var id: String
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The event it tells about.
  public var eventSequence: Int
  /// Why.
  public var kind: NotificationKind
  /// Where.
  public var destination: NotificationDestination
  /// Where it stands.
  public var status: NotificationStatus
  /// Failed attempts so far (a sent message counts its successful one too).
  public var attempts: Int
  /// The last failure, for operators.
  public var lastError: String?
  /// When it was queued.
  public var createdAt: Timestamp
  /// When the next attempt is due (pending messages).
  public var nextAttemptAt: Timestamp
  /// When it was last tried.
  public var lastAttemptAt: Timestamp?
  /// When the receiver took it.
  public var sentAt: Timestamp?

  /// Creates a value.
  public init(
    id: String,
    trackingNumber: TrackingNumber,
    eventSequence: Int,
    kind: NotificationKind,
    destination: NotificationDestination,
    status: NotificationStatus,
    attempts: Int,
    lastError: String?,
    createdAt: Timestamp,
    nextAttemptAt: Timestamp,
    lastAttemptAt: Timestamp?,
    sentAt: Timestamp?
  ) {
    self.id = id
    self.trackingNumber = trackingNumber
    self.eventSequence = eventSequence
    self.kind = kind
    self.destination = destination
    self.status = status
    self.attempts = attempts
    self.lastError = lastError
    self.createdAt = createdAt
    self.nextAttemptAt = nextAttemptAt
    self.lastAttemptAt = lastAttemptAt
    self.sentAt = sentAt
  }
}

/// The outbox of one destination, summarized for operators.
public struct NotificationDestinationSummary: Hashable, Sendable {
  /// The destination.
  public var destination: NotificationDestination
  /// Messages waiting.
  public var pending: Int
  /// Of those, messages that failed at least once.
  public var retrying: Int
  /// Dead letters.
  public var dead: Int
  /// Sent.
  public var sent: Int
  /// Cancelled.
  public var cancelled: Int
  /// The newest failure of a message not sent.
  public var lastError: String?
  /// The last attempt.
  public var lastAttemptAt: Timestamp?
  /// The last message sent.
  public var lastSentAt: Timestamp?
  /// The oldest message waiting.
  public var oldestPendingCreatedAt: Timestamp?

  /// Creates a summary.
  public init(
    destination: NotificationDestination,
    pending: Int = 0,
    retrying: Int = 0,
    dead: Int = 0,
    sent: Int = 0,
    cancelled: Int = 0,
    lastError: String? = nil,
    lastAttemptAt: Timestamp? = nil,
    lastSentAt: Timestamp? = nil,
    oldestPendingCreatedAt: Timestamp? = nil
  ) {
    self.destination = destination
    self.pending = pending
    self.retrying = retrying
    self.dead = dead
    self.sent = sent
    self.cancelled = cancelled
    self.lastError = lastError
    self.lastAttemptAt = lastAttemptAt
    self.lastSentAt = lastSentAt
    self.oldestPendingCreatedAt = oldestPendingCreatedAt
  }
}

/// Which messages an operator lists.
public struct NotificationQuery: Hashable, Sendable {
  /// Only this status.
  public var status: NotificationStatus?
  /// Only this channel (`SMS`, `ZALO`, `WEBHOOK`).
  public var channel: String?
  /// Only this shipment's.
  public var trackingNumber: TrackingNumber?
  /// At most this many, newest first.
  public var limit: Int

  /// Creates a query.
  public init(
    status: NotificationStatus? = nil,
    channel: String? = nil,
    trackingNumber: TrackingNumber? = nil,
    limit: Int = 100
  ) {
    self.status = status
    self.channel = channel
    self.trackingNumber = trackingNumber
    self.limit = limit
  }
}

/// Durable storage of the notification outbox. Messages are queued by ``ShipmentWrite``s, in
/// the transaction of the events they tell about (so none is lost, and none is sent for a
/// change that did not commit); these methods cover the dispatcher's and operators' updates.
/// Every write publishes ``StoreTopic/notifications``.
public protocol NotificationStore: Sendable {
  /// Pending messages due at `now`, earliest due first.
  func dueNotifications(now: Timestamp, limit: Int) async throws -> [OutboundNotification]
  /// When the earliest pending message is due, if any (the dispatcher sleeps until then
  /// unless the outbox changes first).
  func nextNotificationTime() async throws -> Timestamp?
  /// A message by id, or `nil`.
  func notification(id: String) async throws -> OutboundNotification?
  /// Messages, newest first.
  func notifications(matching query: NotificationQuery) async throws -> [OutboundNotification]
  /// Records that the receiver took a pending message.
  func recordSent(id: String, at: Timestamp) async throws
  /// Records a failed attempt: the next attempt time and the error, or dead-lettering.
  func recordFailedAttempt(
    id: String,
    at: Timestamp,
    error: String,
    nextAttemptAt: Timestamp,
    deadLetter: Bool
  ) async throws
  /// Moves a pending message's next attempt to `until` without counting an attempt (quiet
  /// hours).
  func postpone(id: String, until: Timestamp) async throws
  /// Cancels a pending message for good, with the reason.
  func cancel(id: String, at: Timestamp, reason: String) async throws
  /// Puts a dead letter back in the queue with its attempts reset; returns it, or `nil` when
  /// there is no such message.
  /// - Throws: ``TrackingError`` `.failedPrecondition` unless it is dead.
  func retryDeadLetter(id: String, now: Timestamp) async throws -> OutboundNotification?
  /// Every destination that has messages, summarized.
  func summaries() async throws -> [NotificationDestinationSummary]
  /// A shipment's notification choices, oldest first.
  func consents(of number: TrackingNumber) async throws -> [NotificationConsent]
}
