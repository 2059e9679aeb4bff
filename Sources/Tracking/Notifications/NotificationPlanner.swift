import Synchronization

/// A system subscribed to dossier events by webhook: which agencies' dossiers and which kinds
/// it wants. Where and how it is reached is configuration, not domain.
public struct WebhookSubscription: Hashable, Sendable {
  /// Its id (letters, digits, `-`, `_`).
  public var id: String
  /// Only dossiers for these agencies; `nil` for all.
  public var agencies: Set<AgencyCode>?
  /// Only these kinds; `nil` for all.
  public var kinds: Set<NotificationKind>?

  /// Creates a subscription.
  public init(id: String, agencies: Set<AgencyCode>? = nil, kinds: Set<NotificationKind>? = nil) {
    self.id = id
    self.agencies = agencies
    self.kinds = kinds
  }

  /// Whether it wants a kind of message about a shipment.
  public func wants(_ kind: NotificationKind, of shipment: Shipment) -> Bool {
    (self.agencies?.contains(shipment.destinationAgency) ?? true)
      && (self.kinds?.contains(kind) ?? true)
  }
}

/// What the notifications of a gateway may use: the citizen channels it can send on and the
/// webhook subscriptions. Replaced when the configuration is reloaded.
public struct NotificationSettings: Hashable, Sendable {
  /// The citizen channels configured (a citizen cannot choose another).
  public var channels: Set<NotificationChannel>
  /// The subscribed systems.
  public var subscriptions: [WebhookSubscription]

  /// Creates settings.
  public init(channels: Set<NotificationChannel> = [], subscriptions: [WebhookSubscription] = []) {
    self.channels = channels
    self.subscriptions = subscriptions
  }
}

/// The settings in force.
public final class NotificationSettingsHolder: Sendable {
  private let settings: Mutex<NotificationSettings>

  /// Creates a holder.
  public init(_ settings: NotificationSettings = NotificationSettings()) {
    self.settings = Mutex(settings)
  }

  /// The settings in force.
  public var current: NotificationSettings { self.settings.withLock { $0 } }

  /// Puts new settings in force (for events recorded from now on).
  public func replace(with settings: NotificationSettings) {
    self.settings.withLock { $0 = settings }
  }
}

/// Decides which messages a write queues: one per notifying event for the citizen's chosen
/// channel (none without consent) and one per webhook subscription that wants it. Pure: the
/// messages travel in the write with the events.
public struct NotificationPlanner: Sendable {
  let settings: NotificationSettingsHolder

  /// Creates a planner.
  public init(settings: NotificationSettingsHolder) {
    self.settings = settings
  }

  /// The kind of message an event makes, if any.
  /// - Parameters:
  ///   - event: The new event.
  ///   - shipment: The shipment after the write, with its full history.
  public static func kind(of event: ShipmentEvent, in shipment: Shipment) -> NotificationKind? {
    switch event.kind {
    case .collected: return .received
    case .agencyAccepted: return .filed
    case .appointmentReceived:
      // A paper filing: the slip tells the appointment. After an electronic acceptance the
      // citizen was told already.
      let accepted = shipment.events.contains {
        $0.sequence < event.sequence && $0.kind == .agencyAccepted
      }
      return accepted ? nil : .filed
    case .supplementRequested: return .supplementRequested
    case .resultReady: return .resultReady
    case .deliveryFailed: return .deliveryAttempt
    case .returnedToAgency: return .returned
    default: return nil
    }
  }

  /// The messages for new events.
  /// - Parameters:
  ///   - events: The events of the write.
  ///   - shipment: The shipment after the write, with its full history.
  public func requests(for events: [ShipmentEvent], of shipment: Shipment) -> [NotificationRequest]
  {
    // Without personal data there is no number to send to.
    let citizen = shipment.personalDataErasedAt == nil ? shipment.notificationChannel : .none
    let settings = self.settings.current
    var requests: [NotificationRequest] = []
    for event in events {
      guard let kind = Self.kind(of: event, in: shipment) else { continue }
      var destinations: [NotificationDestination] = []
      switch citizen {
      case .none: break
      case .sms: destinations.append(.sms)
      case .zalo: destinations.append(.zalo)
      }
      for subscription in settings.subscriptions where subscription.wants(kind, of: shipment) {
        destinations.append(.webhook(subscription.id))
      }
      for destination in destinations {
        requests.append(
          NotificationRequest(
            id: NotificationRequest.id(
              shipment.trackingNumber,
              sequence: event.sequence,
              destination: destination
            ),
            eventSequence: event.sequence,
            kind: kind,
            destination: destination
          )
        )
      }
    }
    return requests
  }
}
