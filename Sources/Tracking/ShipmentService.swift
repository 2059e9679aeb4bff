/// A request to book a pickup, with every value already validated.
public struct PickupRegistration: Hashable, Sendable {
  /// Which legs the postal service carries.
  public var serviceType: ServiceType
  /// The citizen.
  public var applicant: Applicant
  /// The procedure.
  public var procedure: ProcedureCode
  /// The competent agency.
  public var destinationAgency: AgencyCode
  /// Where the dossier is picked up.
  public var pickup: Pickup

  /// Creates a registration.
  public init(
    serviceType: ServiceType,
    applicant: Applicant,
    procedure: ProcedureCode,
    destinationAgency: AgencyCode,
    pickup: Pickup
  ) {
    self.serviceType = serviceType
    self.applicant = applicant
    self.procedure = procedure
    self.destinationAgency = destinationAgency
    self.pickup = pickup
  }
}

/// A request to record an event, with every value already validated.
public struct EventRecording: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// What happened.
  public var kind: EventKind
  /// When, by the device's clock; `nil` means now.
  public var occurredAt: Timestamp?
  /// Where; `nil` means the caller's post office.
  public var location: PostOfficeCode?
  /// Staff's note.
  public var note: BoundedText?

  /// Creates a recording.
  public init(
    trackingNumber: TrackingNumber,
    kind: EventKind,
    occurredAt: Timestamp? = nil,
    location: PostOfficeCode? = nil,
    note: BoundedText? = nil
  ) {
    self.trackingNumber = trackingNumber
    self.kind = kind
    self.occurredAt = occurredAt
    self.location = location
    self.note = note
  }
}

/// The result of a registration.
public struct RegisteredPickup: Hashable, Sendable {
  /// The new shipment (for a replay: as it was when registered).
  public var shipment: Shipment
  /// The citizen's verification code.
  public var code: VerificationCode
  /// Whether this was a retry of an earlier registration.
  public var isReplay: Bool
}

/// The result of recording an event.
public struct RecordedEvent: Hashable, Sendable {
  /// The shipment right after the event.
  public var shipment: Shipment
  /// The event.
  public var event: ShipmentEvent
  /// Whether this was a retry of an earlier recording.
  public var isReplay: Bool
}

/// The use cases of the first slice: book a pickup, record events, look shipments up, and let
/// a citizen track one. Holds no state of its own beyond the tracking throttle.
public struct ShipmentService: Sendable {
  /// How far ahead of the server's clock a device's clock may be.
  public static let clockSkewTolerance: Duration = .seconds(5 * 60)

  private let store: any ShipmentStore
  private let codes: VerificationCodeIssuer
  private let throttle: TrackingThrottle
  private let serviceIndicator: ServiceIndicator

  /// Creates the service.
  /// - Parameters:
  ///   - store: Where shipments live.
  ///   - codes: Issues and checks citizens' verification codes.
  ///   - throttle: Limits failed tracking attempts.
  ///   - serviceIndicator: The S10 service indicator new numbers are minted with.
  public init(
    store: any ShipmentStore,
    codes: VerificationCodeIssuer,
    throttle: TrackingThrottle,
    serviceIndicator: ServiceIndicator
  ) {
    self.store = store
    self.codes = codes
    self.throttle = throttle
    self.serviceIndicator = serviceIndicator
  }

  /// Books a pickup: mints the number, stores the shipment and its registration event, and
  /// issues the citizen's code.
  /// - Parameters:
  ///   - registration: What to book.
  ///   - actor: Who books it.
  ///   - idempotencyKey: The request's key; a retry returns the original shipment and code.
  ///   - now: The current time.
  /// - Returns: The shipment and the code.
  /// - Throws: ``TrackingError`` (`.requestIDReused`, `.exhausted`, `.storageFailure`).
  public func registerPickup(
    _ registration: PickupRegistration,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RegisteredPickup {
    var generator = SystemRandomNumberGenerator()
    let (_, commitment) = self.codes.issue(using: &generator)
    let draft = ShipmentDraft(
      serviceType: registration.serviceType,
      applicant: registration.applicant,
      procedure: registration.procedure,
      destinationAgency: registration.destinationAgency,
      pickup: registration.pickup,
      actor: actor.id,
      now: now
    )
    let outcome = try await self.store.register(
      draft,
      serviceIndicator: self.serviceIndicator,
      commitment: commitment,
      idempotencyKey: idempotencyKey
    )
    let stored = outcome.value
    return RegisteredPickup(
      shipment: stored.shipment,
      code: self.codes.code(for: stored.commitment),
      isReplay: outcome.isReplay
    )
  }

  /// Records an event if the transition table allows it in the shipment's current state.
  /// - Parameters:
  ///   - recording: What happened.
  ///   - actor: Who records it.
  ///   - idempotencyKey: The request's key; a retry returns the original result.
  ///   - now: The current time.
  /// - Returns: The shipment right after the event, and the event.
  /// - Throws: ``TrackingError``: `.invalidArgument` for a registration event, a time too far
  ///   ahead or a missing location; `.notFound`; `.illegalTransition`; `.requestIDReused`;
  ///   `.storageFailure`.
  public func recordEvent(
    _ recording: EventRecording,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    guard recording.kind != .registered else {
      throw TrackingError.invalidField("type", "REGISTERED is written by RegisterPickup only")
    }
    let occurredAt = recording.occurredAt ?? now
    guard occurredAt <= now.advanced(by: Self.clockSkewTolerance) else {
      throw TrackingError.invalidField("occurred_at", "is more than 5 minutes in the future")
    }
    guard let location = recording.location ?? actor.postOffice else {
      throw TrackingError.invalidField("location", "is required for callers without a post office")
    }
    let kind = recording.kind
    let note = recording.note.flatMap { $0.rawValue.isEmpty ? nil : $0.rawValue }
    let outcome = try await self.store.append(
      to: recording.trackingNumber,
      idempotencyKey: idempotencyKey
    ) { shipment in
      var machine = ShipmentLifecycle(state: shipment.state)
      switch machine.apply(kind) {
      case .refused(let state):
        throw TrackingError.illegalTransition(kind, in: state)
      case .moved(let from, let to):
        return ShipmentEvent(
          sequence: shipment.version + 1,
          kind: kind,
          fromState: from,
          toState: to,
          occurredAt: occurredAt,
          recordedAt: now,
          actor: actor.id,
          location: location,
          note: note
        )
      }
    }
    return RecordedEvent(
      shipment: outcome.value.shipment,
      event: outcome.value.event,
      isReplay: outcome.isReplay
    )
  }

  /// A shipment with its history.
  /// - Parameter number: The tracking number.
  /// - Throws: ``TrackingError`` `.notFound` or `.storageFailure`.
  public func shipment(_ number: TrackingNumber) async throws -> Shipment {
    guard let shipment = try await self.store.shipment(number) else {
      throw TrackingError.shipmentNotFound()
    }
    return shipment
  }

  /// One page of shipments, newest first.
  /// - Parameter query: Filters, page size and position.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage {
    try await self.store.shipments(matching: query)
  }

  /// The citizen's view of a shipment, if the code matches.
  ///
  /// An unknown number and a wrong code give the same error after the same work, and both count
  /// as a failure for the requested number.
  /// - Parameters:
  ///   - number: The tracking number.
  ///   - code: The code the citizen typed.
  ///   - now: The current time.
  /// - Throws: ``TrackingError`` `.notFound`, `.throttled` (with the delay) or
  ///   `.storageFailure`.
  public func track(
    _ number: TrackingNumber,
    code: VerificationCode,
    now: Timestamp
  ) async throws -> TrackedShipment {
    if let delay = self.throttle.retryDelay(for: number.rawValue, now: now) {
      throw TrackingError(
        code: .throttled,
        message: "too many failed attempts for this number; try again later",
        retryAfter: delay
      )
    }
    let stored = try await self.store.shipmentWithCommitment(number)
    guard self.codes.verify(code, against: stored?.commitment), let stored else {
      self.throttle.recordFailure(for: number.rawValue, now: now)
      throw TrackingError.shipmentNotFound()
    }
    return TrackedShipment(stored.shipment)
  }
}
