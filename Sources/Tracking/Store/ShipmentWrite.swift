/// One leaf of the custody log as the domain encoded it, for one event.
public struct CustodyLeaf: Hashable, Sendable {
  /// The event it records.
  public var eventSequence: Int
  /// The canonical entry (``CustodyEntry``).
  public var data: [UInt8]

  /// Creates a leaf.
  public init(eventSequence: Int, data: [UInt8]) {
    self.eventSequence = eventSequence
    self.data = data
  }
}

/// A change to the handoff outbox that travels with the events causing it.
public enum OutboxChange: Hashable, Sendable {
  /// Queue a handoff (with the `DIGITIZED` event that carries its ticket).
  case queue(HandoffTicket)
  /// Close a handoff with the agency's decision.
  case close(handoffID: String, status: HandoffStatus)
}

/// An SLA alert the domain raises with a write; stored at most once per hop, clock start and
/// kind, whoever raises it first (the write or the monitor).
public struct AlertRequest: Hashable, Sendable {
  /// What it says.
  public var kind: SlaAlertKind
  /// Which of the shipment's hops (as written by the same write).
  public var hop: SlaHop

  /// Creates a request.
  public init(kind: SlaAlertKind, hop: SlaHop) {
    self.kind = kind
    self.hop = hop
  }
}

/// Everything one decision changes about one existing shipment, committed atomically or not at
/// all: the events, their custody-log leaves, the outbox, the shipment's hops and alerts, and
/// the idempotency record.
///
/// The domain decides the whole value; the store only checks that the shipment is still at
/// ``expectedVersion`` (optimistic concurrency), that the idempotency key is new, and writes.
public struct ShipmentWrite: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The shipment as it is after the write, with its full history (what the store returns,
  /// with the new events' leaf indexes filled in).
  public var shipment: Shipment
  /// The version the decision was made on; the store refuses the write (``TrackingError/Code/conflict``)
  /// when the shipment has moved on since.
  public var expectedVersion: Int
  /// New events, numbered on from ``expectedVersion`` without gaps (may be empty: a
  /// recomputation writes hops only).
  public var events: [ShipmentEvent]
  /// One leaf per event, in order.
  public var custodyLeaves: [CustodyLeaf]
  /// Outbox rows to queue or close.
  public var outbox: [OutboxChange]
  /// The shipment's hops after the write (replacing the stored ones), or `nil` to leave them.
  public var hops: [HopTimeliness]?
  /// Alerts to raise now (for hops in ``hops``).
  public var alerts: [AlertRequest]
  /// The request's key, remembered with the write; `nil` for the service's own writes.
  public var idempotencyKey: IdempotencyKey?
  /// When the write is made.
  public var committedAt: Timestamp
  /// Agency dossier codes the write gives the shipment: each belongs to one shipment only,
  /// and the store refuses the write (`.duplicate`) when another shipment has it.
  public var dossierCodes: [DossierCode] = []
  /// A new commitment to the citizen's verification code, replacing the stored one (a code
  /// reissued by staff), or `nil` to keep it.
  public var newCommitment: CodeCommitment? = nil
  /// Whether the write erases the applicant's personal data: the store destroys the
  /// shipment's data key (and those of scans no other live shipment has), so every sealed
  /// field, note, detail and scan of it becomes unreadable, and drops its blind-index digests.
  public var erasesPersonalData = false
  /// The blind-index digests the shipment is found by after the write, replacing the stored
  /// ones (a corrected applicant), or `nil` to keep them. With a `PERSONAL_DATA_CORRECTED`
  /// event the store also seals the shipment's applicant fields again.
  public var lookupDigests: [String]? = nil
  /// Notification messages to queue, about events of this write.
  public var notifications: [NotificationRequest] = []
  /// A new choice of notification channel, kept with the earlier ones; the shipment's channel
  /// becomes it (`shipment.notificationChannel` already has it).
  public var consent: NotificationConsent? = nil

  /// Creates a write.
  public init(
    shipment: Shipment,
    expectedVersion: Int,
    events: [ShipmentEvent],
    custodyLeaves: [CustodyLeaf],
    outbox: [OutboxChange] = [],
    hops: [HopTimeliness]? = nil,
    alerts: [AlertRequest] = [],
    idempotencyKey: IdempotencyKey?,
    committedAt: Timestamp
  ) {
    precondition(events.count == custodyLeaves.count, "one custody leaf per event")
    precondition(shipment.version == expectedVersion + events.count, "the shipment after the write")
    self.trackingNumber = shipment.trackingNumber
    self.shipment = shipment
    self.expectedVersion = expectedVersion
    self.events = events
    self.custodyLeaves = custodyLeaves
    self.outbox = outbox
    self.hops = hops
    self.alerts = alerts
    self.idempotencyKey = idempotencyKey
    self.committedAt = committedAt
  }
}

/// A new shipment with its registration event, as the domain decided it.
public struct ShipmentRegistration: Hashable, Sendable {
  /// The shipment at version 1, with its number.
  public var shipment: Shipment
  /// What to keep about the citizen's code.
  public var commitment: CodeCommitment
  /// The salt of its custody-log commitments.
  public var custodySalt: [UInt8]
  /// One leaf per event (the registration).
  public var custodyLeaves: [CustodyLeaf]
  /// The request's key.
  public var idempotencyKey: IdempotencyKey
  /// The ``BlindIndex`` digests the shipment is found by (staff lookup by identity number or
  /// phone).
  public var lookupDigests: [String] = []
  /// The citizen's notification choice at registration (its channel is the shipment's).
  public var consent: NotificationConsent? = nil

  /// Creates a registration.
  public init(
    shipment: Shipment,
    commitment: CodeCommitment,
    custodySalt: [UInt8],
    custodyLeaves: [CustodyLeaf],
    idempotencyKey: IdempotencyKey
  ) {
    self.shipment = shipment
    self.commitment = commitment
    self.custodySalt = custodySalt
    self.custodyLeaves = custodyLeaves
    self.idempotencyKey = idempotencyKey
  }
}

/// What an idempotency key was remembered for.
public enum RememberedWrite: Hashable, Sendable {
  /// A registration: the shipment as registered.
  case registration(RegisteredShipment)
  /// Events: the shipment right after them, and the events.
  case events(AppendedEvents)

  /// What an idempotency record names: the write whose events were `firstSequence` through
  /// `version` of `stored`, as the shipment was right after it. `nil` when the record points
  /// past the stored history (a corrupt store).
  public init?(_ stored: RegisteredShipment, firstSequence first: Int, version: Int) {
    guard version <= stored.shipment.version, first >= 1, first <= version else { return nil }
    let earlier = stored.shipment.asOf(version: version)
    if first == 1 {
      self = .registration(
        RegisteredShipment(
          shipment: earlier,
          commitment: stored.commitment,
          custodySalt: stored.custodySalt
        )
      )
    } else {
      self = .events(
        AppendedEvents(shipment: earlier, events: Array(earlier.events[(first - 1)...]))
      )
    }
  }
}

/// Durable storage of shipments and their events: the write side every backend implements.
///
/// Every method that writes does so in one transaction that is durable when it returns.
/// Implementations throw ``TrackingError``: `.requestIDReused` for a key whose fingerprint
/// differs, `.conflict` for a write whose expected version is stale, `.notFound`, `.exhausted`,
/// and `.storageFailure` for anything the store itself cannot do. After each commit the store
/// publishes what changed on its ``ChangeFeed``.
public protocol ShipmentStore: Sendable {
  /// Mints the next number of a service indicator (never the same twice) and stores the new
  /// shipment that `build` decides for it, with its registration event, leaves and idempotency
  /// record, in one transaction.
  /// - Parameters:
  ///   - indicator: The S10 service indicator.
  ///   - key: The request's key, checked before anything is minted.
  ///   - build: The domain's registration for the minted number (``ShipmentWriter``).
  /// - Returns: `.applied`, or `.replayed` with the shipment as first registered when the key
  ///   was remembered for an identical registration.
  /// - Throws: `.exhausted` when the indicator's range is used up; `.requestIDReused`.
  func register(
    indicator: ServiceIndicator,
    idempotencyKey key: IdempotencyKey,
    build: @escaping @Sendable (TrackingNumber) throws -> ShipmentRegistration
  ) async throws -> StoreOutcome<RegisteredShipment>

  /// Commits a write to an existing shipment.
  /// - Returns: The shipment right after the write and the new events (with their leaf
  ///   indexes); `.replayed` with the original result when the key was remembered meanwhile.
  /// - Throws: `.conflict` when the shipment is no longer at the expected version.
  func commit(_ write: ShipmentWrite) async throws -> StoreOutcome<AppendedEvents>

  /// What a key was remembered for, or `nil` for a new key.
  /// - Throws: `.requestIDReused` when the caller used the id with a different request.
  func remembered(_ key: IdempotencyKey) async throws -> RememberedWrite?

  /// Forgets idempotency records older than `before`, at most `limit` of them.
  /// - Returns: How many were forgotten.
  func forgetIdempotencyKeys(recordedBefore before: Timestamp, limit: Int) async throws -> Int

  /// Final shipments registered before `before` whose personal data is not erased yet, oldest
  /// first, at most `limit`.
  func dueForErasure(
    registeredBefore before: Timestamp,
    limit: Int
  ) async throws
    -> [TrackingNumber]

  /// A shipment with its full history, or `nil`.
  func shipment(_ number: TrackingNumber) async throws -> Shipment?

  /// A shipment with its full history, code commitment and stored hops, or `nil`.
  func shipmentWithCommitment(_ number: TrackingNumber) async throws -> RegisteredShipment?

  /// One page of shipments matching a query, newest first, without their histories.
  func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage

  /// Indexes, with the digests `digests` gives, every shipment registered without lookup
  /// digests (before the blind index existed, or by a service without one), in one
  /// transaction; the store remembers which those are, so this reads nothing else.
  /// - Returns: How many shipments it indexed.
  func indexApplicants(_ digests: @escaping @Sendable (Applicant) -> [String]) async throws -> Int

  /// The scan with this document code, and its shipment's number, or `nil`.
  func scan(documentCode: String) async throws -> (TrackingNumber, Scan)?

  /// Proves the store can write now (a small durable transaction), for health checks.
  func probeWrite(now: Timestamp) async throws
}

/// A shipment right after some events, and the events.
public struct AppendedEvents: Hashable, Sendable {
  /// The shipment as it was right after the events.
  public var shipment: Shipment
  /// The events, oldest first, with their custody-log leaf indexes.
  public var events: [ShipmentEvent]
  /// For a write that erased personal data: the scans (SHA-256) whose keys it destroyed, for
  /// their files to be removed.
  public var erasedScans: [String]

  /// Creates a value.
  public init(shipment: Shipment, events: [ShipmentEvent], erasedScans: [String] = []) {
    self.shipment = shipment
    self.events = events
    self.erasedScans = erasedScans
  }
}
