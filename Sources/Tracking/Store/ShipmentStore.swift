/// A client's idempotency key and what the request it came with looked like.
public struct IdempotencyKey: Hashable, Sendable {
  /// The client-chosen id.
  public var requestID: RequestID
  /// A digest of everything else in the request, and of who sent it.
  public var fingerprint: [UInt8]

  /// Creates a key.
  public init(requestID: RequestID, fingerprint: [UInt8]) {
    self.requestID = requestID
    self.fingerprint = fingerprint
  }
}

/// Whether a write happened now or had happened before under the same idempotency key.
public enum StoreOutcome<Value: Sendable>: Sendable {
  /// Written by this call.
  case applied(Value)
  /// Written earlier by a request with the same id and fingerprint; nothing was written now.
  case replayed(Value)

  /// The value either way.
  public var value: Value {
    switch self {
    case .applied(let value), .replayed(let value): value
    }
  }

  /// Whether this call was a replay.
  public var isReplay: Bool {
    if case .replayed = self { return true }
    return false
  }
}

/// A shipment before it has a number.
public struct ShipmentDraft: Hashable, Sendable {
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
  /// Who registers it.
  public var actor: String
  /// When.
  public var now: Timestamp
  /// The shipment's custody-log salt (16 random bytes).
  public var custodySalt: [UInt8]

  /// Creates a draft.
  public init(
    serviceType: ServiceType,
    applicant: Applicant,
    procedure: ProcedureCode,
    destinationAgency: AgencyCode,
    pickup: Pickup,
    actor: String,
    now: Timestamp,
    custodySalt: [UInt8]
  ) {
    self.serviceType = serviceType
    self.applicant = applicant
    self.procedure = procedure
    self.destinationAgency = destinationAgency
    self.pickup = pickup
    self.actor = actor
    self.now = now
    self.custodySalt = custodySalt
  }

  /// The new shipment once it has a number: in its initial state, with its registration event.
  /// - Parameter number: The minted tracking number.
  public func shipment(number: TrackingNumber) -> Shipment {
    let state = ShipmentLifecycle.initialState(for: self.serviceType)
    let registration = ShipmentEvent(
      sequence: 1,
      kind: .registered,
      fromState: nil,
      toState: state,
      occurredAt: self.now,
      recordedAt: self.now,
      actor: self.actor,
      location: self.pickup.postOffice,
      note: nil
    )
    return Shipment(
      trackingNumber: number,
      serviceType: self.serviceType,
      state: state,
      applicant: self.applicant,
      procedure: self.procedure,
      destinationAgency: self.destinationAgency,
      pickup: self.pickup,
      createdAt: self.now,
      updatedAt: self.now,
      version: 1,
      events: [registration]
    )
  }
}

/// Filters and position for listing shipments, newest first.
public struct ShipmentQuery: Hashable, Sendable {
  /// Which shipments to list.
  public struct Filter: Hashable, Sendable {
    /// Only this state.
    public var state: ShipmentState?
    /// Only this origin post office.
    public var postOffice: PostOfficeCode?
    /// Only those created at or after this time.
    public var createdAtOrAfter: Timestamp?
    /// Only those created before this time.
    public var createdBefore: Timestamp?

    /// Creates a filter.
    public init(
      state: ShipmentState? = nil,
      postOffice: PostOfficeCode? = nil,
      createdAtOrAfter: Timestamp? = nil,
      createdBefore: Timestamp? = nil
    ) {
      self.state = state
      self.postOffice = postOffice
      self.createdAtOrAfter = createdAtOrAfter
      self.createdBefore = createdBefore
    }
  }

  /// Where the previous page ended: the last shipment it returned.
  public struct Cursor: Hashable, Sendable {
    /// Its creation time.
    public var createdAt: Timestamp
    /// Its number (breaks ties between equal creation times).
    public var trackingNumber: TrackingNumber

    /// Creates a cursor.
    public init(createdAt: Timestamp, trackingNumber: TrackingNumber) {
      self.createdAt = createdAt
      self.trackingNumber = trackingNumber
    }
  }

  /// The default page size.
  public static let defaultPageSize = 50
  /// The largest page size.
  public static let maximumPageSize = 500

  /// Which shipments.
  public var filter: Filter
  /// How many at most.
  public var pageSize: Int
  /// Start after this one.
  public var after: Cursor?

  /// Creates a query.
  public init(filter: Filter = Filter(), pageSize: Int = Self.defaultPageSize, after: Cursor? = nil)
  {
    precondition((1 ... Self.maximumPageSize).contains(pageSize), "page size out of range")
    self.filter = filter
    self.pageSize = pageSize
    self.after = after
  }
}

/// One page of shipments.
public struct ShipmentPage: Hashable, Sendable {
  /// The shipments, newest first, without their histories.
  public var shipments: [Shipment]
  /// Where the next page starts, or `nil` on the last page.
  public var next: ShipmentQuery.Cursor?

  /// Creates a page.
  public init(shipments: [Shipment], next: ShipmentQuery.Cursor?) {
    self.shipments = shipments
    self.next = next
  }
}

/// Durable storage of shipments, their events, citizen-code commitments and idempotency keys.
///
/// Every method that writes does so in one transaction that is durable when it returns, and
/// checks the idempotency key in that same transaction. Implementations throw ``TrackingError``:
/// `.requestIDReused` for a key whose fingerprint differs, `.notFound`, `.exhausted`, and
/// `.storageFailure` for anything the store itself cannot do; errors thrown by a caller's
/// closure pass through unchanged and leave nothing written.
public protocol ShipmentStore: Sendable {
  /// Mints the next number for the service indicator and stores the shipment with its
  /// registration event and code commitment.
  /// - Parameters:
  ///   - draft: The shipment without its number.
  ///   - serviceIndicator: The S10 service indicator to mint with.
  ///   - commitment: What to keep about the citizen's code.
  ///   - idempotencyKey: The request's key.
  /// - Returns: The shipment and commitment, newly stored or (for a replay) as first stored.
  func register(
    _ draft: ShipmentDraft,
    serviceIndicator: ServiceIndicator,
    commitment: CodeCommitment,
    idempotencyKey: IdempotencyKey
  ) async throws -> StoreOutcome<RegisteredShipment>

  /// Appends the events decided from the current shipment, atomically.
  /// - Parameters:
  ///   - number: The shipment.
  ///   - idempotencyKey: The request's key.
  ///   - decide: Given the shipment with its full history, returns the events to append
  ///     (numbered on from the shipment's version), none to append nothing (the key is then not
  ///     remembered), or throws to append nothing.
  /// - Returns: The shipment right after the events, and the events; for a replay, as they were
  ///   when the events were first appended.
  func append(
    to number: TrackingNumber,
    idempotencyKey: IdempotencyKey,
    decide: @escaping @Sendable (Shipment) throws -> [ShipmentEvent]
  ) async throws -> StoreOutcome<AppendedEvents>

  /// A shipment with its full history, or `nil`.
  func shipment(_ number: TrackingNumber) async throws -> Shipment?

  /// A shipment with its full history and code commitment, or `nil`.
  func shipmentWithCommitment(_ number: TrackingNumber) async throws -> RegisteredShipment?

  /// One page of shipments matching a query, newest first, without their histories.
  func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage

  /// The scan with this document code, and its shipment's number, or `nil`.
  func scan(documentCode: String) async throws -> (TrackingNumber, Scan)?
}

/// A shipment, its code commitment and its custody-log salt.
public struct RegisteredShipment: Hashable, Sendable {
  /// The shipment.
  public var shipment: Shipment
  /// What the store keeps about the citizen's code.
  public var commitment: CodeCommitment
  /// The salt of the shipment's custody-log commitments.
  public var custodySalt: [UInt8]

  /// Creates a value.
  public init(shipment: Shipment, commitment: CodeCommitment, custodySalt: [UInt8]) {
    self.shipment = shipment
    self.commitment = commitment
    self.custodySalt = custodySalt
  }
}

/// A shipment right after some events, and the events.
public struct AppendedEvents: Hashable, Sendable {
  /// The shipment as it was right after the events.
  public var shipment: Shipment
  /// The events, oldest first.
  public var events: [ShipmentEvent]

  /// Creates a value.
  public init(shipment: Shipment, events: [ShipmentEvent]) {
    self.shipment = shipment
    self.events = events
  }
}
