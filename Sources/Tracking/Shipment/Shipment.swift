/// Who did something: the identity in the caller's client certificate.
public struct Actor: Hashable, Sendable, CustomStringConvertible {
  /// The kinds of partner.
  public enum Role: String, Hashable, Sendable, CaseIterable {
    /// Postal staff: counter clerks and couriers.
    case staff
    /// An agency's one-stop system.
    case agency
    /// A gateway operator (channels and dead letters; no shipment data).
    case `operator`
    /// The provincial oversight office (deadlines and reports).
    case oversight
  }

  /// The partner's kind.
  public var role: Role
  /// The SPIFFE ID from the certificate, e.g. `spiffe://vnpost.vn/staff/250000/clerk-01`.
  public var id: String
  /// For staff: their post office.
  public var postOffice: PostOfficeCode?
  /// For agencies: their code.
  public var agency: AgencyCode?

  /// A staff member.
  public static func staff(id: String, postOffice: PostOfficeCode) -> Actor {
    Actor(role: .staff, id: id, postOffice: postOffice, agency: nil)
  }

  /// An agency system.
  public static func agency(id: String, agency: AgencyCode) -> Actor {
    Actor(role: .agency, id: id, postOffice: nil, agency: agency)
  }

  /// The oversight office.
  public static func oversight(id: String) -> Actor {
    Actor(role: .oversight, id: id, postOffice: nil, agency: nil)
  }

  /// A gateway operator.
  public static func `operator`(id: String) -> Actor {
    Actor(role: .operator, id: id, postOffice: nil, agency: nil)
  }

  public var description: String { self.id }
}

/// One entry of a shipment's append-only history.
public struct ShipmentEvent: Hashable, Sendable {
  /// 1 for the registration, then +1 per event.
  public var sequence: Int
  /// What happened.
  public var kind: EventKind
  /// The state before (`nil` for the registration).
  public var fromState: ShipmentState?
  /// The state after.
  public var toState: ShipmentState
  /// When it happened, by the recording device's clock.
  public var occurredAt: Timestamp
  /// When the service stored it.
  public var recordedAt: Timestamp
  /// Who recorded it (a SPIFFE ID).
  public var actor: String
  /// Where it happened.
  public var location: PostOfficeCode
  /// Staff's note, never shown to citizens.
  public var note: String?
  /// What the event carries beyond the common fields.
  public var details: EventDetails?
  /// For a handover: both parties' signatures.
  public var handover: HandoverRecord?
  /// Its leaf in the custody log, once stored (`nil` before the store assigned it).
  public var leafIndex: Int64?

  /// Creates an event.
  public init(
    sequence: Int,
    kind: EventKind,
    fromState: ShipmentState?,
    toState: ShipmentState,
    occurredAt: Timestamp,
    recordedAt: Timestamp,
    actor: String,
    location: PostOfficeCode,
    note: String?,
    details: EventDetails? = nil,
    handover: HandoverRecord? = nil,
    leafIndex: Int64? = nil
  ) {
    self.sequence = sequence
    self.kind = kind
    self.fromState = fromState
    self.toState = toState
    self.occurredAt = occurredAt
    self.recordedAt = recordedAt
    self.actor = actor
    self.location = location
    self.note = note
    self.details = details
    self.handover = handover
    self.leafIndex = leafIndex
  }
}

/// A shipment: the fixed facts of the booking plus its history.
public struct Shipment: Hashable, Sendable {
  /// The UPU S10 number.
  public var trackingNumber: TrackingNumber
  /// Which legs the postal service carries.
  public var serviceType: ServiceType
  /// The state after the last event.
  public var state: ShipmentState
  /// The citizen.
  public var applicant: Applicant
  /// The administrative procedure.
  public var procedure: ProcedureCode
  /// The competent agency.
  public var destinationAgency: AgencyCode
  /// Where the dossier is picked up.
  public var pickup: Pickup
  /// When it was registered.
  public var createdAt: Timestamp
  /// When the last event was recorded.
  public var updatedAt: Timestamp
  /// The number of events.
  public var version: Int
  /// The history, oldest first (empty when loaded without it).
  public var events: [ShipmentEvent]
  /// When the applicant's personal data was erased (retention over, or a lawful request):
  /// ``applicant`` is then ``Applicant/erased`` and event notes and details are gone; states
  /// and times stay.
  public var personalDataErasedAt: Timestamp? = nil
  /// The channel the citizen agreed to be told about the dossier on (``NotificationChannel/none``
  /// without consent).
  public var notificationChannel: NotificationChannel = .none

  /// Creates a shipment.
  public init(
    trackingNumber: TrackingNumber,
    serviceType: ServiceType,
    state: ShipmentState,
    applicant: Applicant,
    procedure: ProcedureCode,
    destinationAgency: AgencyCode,
    pickup: Pickup,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Int,
    events: [ShipmentEvent]
  ) {
    self.trackingNumber = trackingNumber
    self.serviceType = serviceType
    self.state = state
    self.applicant = applicant
    self.procedure = procedure
    self.destinationAgency = destinationAgency
    self.pickup = pickup
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.version = version
    self.events = events
  }

  /// The post office responsible for the pickup.
  public var originPostOffice: PostOfficeCode { self.pickup.postOffice }

  /// The shipment as it was right after event `version`, from its full history.
  /// - Parameter version: 1 through the current version.
  /// - Returns: The earlier view: state, update time and history cut at that event.
  public func asOf(version: Int) -> Shipment {
    precondition(self.events.count == self.version, "needs the full history")
    precondition((1 ... self.version).contains(version), "no such version")
    var earlier = self
    earlier.events = Array(self.events.prefix(version))
    earlier.version = version
    // The precondition above guarantees the history has `version` ≥ 1 events.
    let last = earlier.events[version - 1]
    earlier.state = last.toState
    earlier.updatedAt = last.recordedAt
    return earlier
  }
}
