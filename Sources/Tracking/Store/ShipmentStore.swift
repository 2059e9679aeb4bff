/// A client's idempotency key and what the request it came with looked like.
///
/// Keys are scoped to their caller: two callers may use the same request id independently.
public struct IdempotencyKey: Hashable, Sendable {
  /// The client-chosen id.
  public var requestID: RequestID
  /// Who sent it (a SPIFFE ID, or a device's name for offline sync).
  public var caller: String
  /// A digest of everything else in the request, and of who sent it.
  public var fingerprint: [UInt8]

  /// Creates a key.
  public init(requestID: RequestID, caller: String, fingerprint: [UInt8]) {
    self.requestID = requestID
    self.caller = caller
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
    /// Only those found by this ``BlindIndex`` digest (an identity number or a phone).
    public var person: String?

    /// Creates a filter.
    public init(
      state: ShipmentState? = nil,
      postOffice: PostOfficeCode? = nil,
      createdAtOrAfter: Timestamp? = nil,
      createdBefore: Timestamp? = nil,
      person: String? = nil
    ) {
      self.state = state
      self.postOffice = postOffice
      self.createdAtOrAfter = createdAtOrAfter
      self.createdBefore = createdBefore
      self.person = person
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

/// A shipment as stored: its history, its code commitment, its custody-log salt and its stored
/// SLA hops, read together.
public struct RegisteredShipment: Hashable, Sendable {
  /// The shipment.
  public var shipment: Shipment
  /// What the store keeps about the citizen's code.
  public var commitment: CodeCommitment
  /// The salt of the shipment's custody-log commitments.
  public var custodySalt: [UInt8]
  /// The stored hops (the truth for due dates and verdicts), oldest first.
  public var hops: [HopTimeliness]

  /// Creates a value.
  public init(
    shipment: Shipment,
    commitment: CodeCommitment,
    custodySalt: [UInt8],
    hops: [HopTimeliness] = []
  ) {
    self.shipment = shipment
    self.commitment = commitment
    self.custodySalt = custodySalt
    self.hops = hops
  }
}
