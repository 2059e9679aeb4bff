/// Every store a gateway uses, from one backend, with the notifier its commits publish on and
/// the health its writes report to.
public struct Stores: Sendable {
  /// Shipments and their events (the write path).
  public var shipments: any ShipmentStore
  /// The custody log's leaves, nodes and checkpoints.
  public var custody: any CustodyLogStore
  /// The handoff outbox.
  public var handoffs: any HandoffStore
  /// SLA hops and alerts.
  public var sla: any SlaStore
  /// Handover signing keys.
  public var signingKeys: any SigningKeyStore
  /// Offline sync state of handhelds.
  public var offline: any OfflineSyncStore
  /// Scanned documents.
  public var blobs: any BlobStore
  /// Reads of unmasked personal data.
  public var accessAudit: any AccessAuditStore
  /// Citizens' ratings and complaints.
  public var ratings: any RatingStore
  /// The plan's indicators, aggregated.
  public var indicators: any IndicatorStore
  /// Counter queue tickets and their waits.
  public var queueTickets: any QueueTicketStore
  /// The notification outbox and the citizens' notification choices.
  public var notifications: any NotificationStore
  /// What commits publish.
  public var feed: ChangeFeed
  /// Whether writes succeed.
  public var health: StoreHealth

  /// Bundles stores.
  public init(
    shipments: any ShipmentStore,
    custody: any CustodyLogStore,
    handoffs: any HandoffStore,
    sla: any SlaStore,
    signingKeys: any SigningKeyStore,
    offline: any OfflineSyncStore,
    blobs: any BlobStore,
    accessAudit: any AccessAuditStore,
    ratings: any RatingStore,
    indicators: any IndicatorStore,
    queueTickets: any QueueTicketStore,
    notifications: any NotificationStore,
    feed: ChangeFeed,
    health: StoreHealth
  ) {
    self.shipments = shipments
    self.custody = custody
    self.handoffs = handoffs
    self.sla = sla
    self.signingKeys = signingKeys
    self.offline = offline
    self.blobs = blobs
    self.accessAudit = accessAudit
    self.ratings = ratings
    self.indicators = indicators
    self.queueTickets = queueTickets
    self.notifications = notifications
    self.feed = feed
    self.health = health
  }
}
