/// The channel a citizen agreed to be told about their dossier on.
///
/// Consent is explicit (Decree 13/2023/NĐ-CP art. 11; Law 91/2025/QH15): a shipment registered
/// without one gets ``none``, and nothing is sent to the citizen.
public enum NotificationChannel: String, Hashable, Sendable, CaseIterable {
  /// No messages.
  case none = "NONE"
  /// SMS to the applicant's mobile number.
  case sms = "SMS"
  /// A Zalo notification (ZNS template message) to the applicant's mobile number.
  case zalo = "ZALO"
}

/// Who changed a citizen's notification channel.
public enum ConsentSource: String, Hashable, Sendable, CaseIterable {
  /// Given at registration, at the counter or through the clerk's app.
  case registration = "REGISTRATION"
  /// The citizen, with the tracking number and code (the web page, the app, gRPC).
  case citizen = "CITIZEN"
  /// Staff, at the citizen's request.
  case staff = "STAFF"
}

/// One recorded choice of a citizen's notification channel. Every change is kept (the consent
/// record the law asks a controller to be able to show), newest last.
public struct NotificationConsent: Hashable, Sendable {
  /// The channel from then on.
  public var channel: NotificationChannel
  /// When it was chosen.
  public var changedAt: Timestamp
  /// Who recorded it.
  public var source: ConsentSource
  /// The staff member's SPIFFE ID, or `nil` for the citizen.
  public var actor: String?

  /// Creates a record.
  public init(
    channel: NotificationChannel,
    changedAt: Timestamp,
    source: ConsentSource,
    actor: String?
  ) {
    self.channel = channel
    self.changedAt = changedAt
    self.source = source
    self.actor = actor
  }
}
