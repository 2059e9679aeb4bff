import Proto
import Tracking

extension NotificationChannel {
  /// The channel a wire value names.
  /// - Throws: ``InvalidValue`` for UNSPECIFIED or an unknown value.
  init(_ proto: Postalgateway_V1_NotificationChannel) throws {
    switch proto {
    case .none: self = .none
    case .sms: self = .sms
    case .zalo: self = .zalo
    case .unspecified, .UNRECOGNIZED: throw InvalidValue("must be NONE, SMS or ZALO")
    }
  }

  var proto: Postalgateway_V1_NotificationChannel {
    switch self {
    case .none: .none
    case .sms: .sms
    case .zalo: .zalo
    }
  }
}

extension Postalgateway_V1_NotificationConsent {
  init(_ consent: NotificationConsent) {
    self.init()
    self.channel = consent.channel.proto
    self.changedAt = consent.changedAt.proto
    self.changedBy = consent.source.rawValue
  }
}

extension NotificationStatus {
  init?(_ proto: Postalgateway_V1_NotificationStatus) {
    switch proto {
    case .pending: self = .pending
    case .sent: self = .sent
    case .dead: self = .dead
    case .cancelled: self = .cancelled
    case .unspecified, .UNRECOGNIZED: return nil
    }
  }

  var proto: Postalgateway_V1_NotificationStatus {
    switch self {
    case .pending: .pending
    case .sent: .sent
    case .dead: .dead
    case .cancelled: .cancelled
    }
  }
}

extension NotificationKind {
  var proto: Postalgateway_V1_NotificationKind {
    switch self {
    case .received: .received
    case .filed: .filed
    case .supplementRequested: .supplementRequested
    case .resultReady: .resultReady
    case .deliveryAttempt: .deliveryAttempt
    case .returned: .returned
    }
  }
}

extension NotificationDestination {
  var proto: Postalgateway_V1_NotificationDestination {
    switch self {
    case .sms: .sms
    case .zalo: .zalo
    case .webhook: .webhook
    }
  }

  /// The stored channel name of a wire destination, or `nil` for UNSPECIFIED.
  static func channelName(_ proto: Postalgateway_V1_NotificationDestination) -> String? {
    switch proto {
    case .sms: "SMS"
    case .zalo: "ZALO"
    case .webhook: "WEBHOOK"
    case .unspecified, .UNRECOGNIZED: nil
    }
  }
}

extension Postalgateway_V1_Notification {
  init(_ message: OutboundNotification) {
    self.init()
    self.messageID = message.id
    self.trackingNumber = message.trackingNumber.rawValue
    self.eventSequence = Int64(message.eventSequence)
    self.kind = message.kind.proto
    self.destination = message.destination.proto
    self.subscription = message.destination.subscription ?? ""
    self.status = message.status.proto
    self.attempts = Int32(clamping: message.attempts)
    self.lastError = message.lastError ?? ""
    self.createdAt = message.createdAt.proto
    if message.status == .pending { self.nextAttemptAt = message.nextAttemptAt.proto }
    if let time = message.lastAttemptAt { self.lastAttemptAt = time.proto }
    if let time = message.sentAt { self.sentAt = time.proto }
  }
}

extension Postalgateway_V1_NotificationDestinationSummary {
  init(_ summary: NotificationDestinationSummary) {
    self.init()
    self.destination = summary.destination.proto
    self.subscription = summary.destination.subscription ?? ""
    self.pending = Int64(summary.pending)
    self.retrying = Int64(summary.retrying)
    self.dead = Int64(summary.dead)
    self.sent = Int64(summary.sent)
    self.cancelled = Int64(summary.cancelled)
    self.lastError = summary.lastError ?? ""
    if let time = summary.lastAttemptAt { self.lastAttemptAt = time.proto }
    if let time = summary.lastSentAt { self.lastSentAt = time.proto }
    if let time = summary.oldestPendingCreatedAt { self.oldestPendingCreatedAt = time.proto }
  }
}
