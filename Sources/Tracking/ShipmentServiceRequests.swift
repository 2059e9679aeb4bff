/// A request to book a pickup, with every value already validated.
public struct PickupRegistration: Hashable, Sendable {
  /// Which legs the postal service carries.
  public var serviceType: ServiceType
  /// The citizen.
  public var applicant: Applicant
  /// The procedure.
  public var procedure: ProcedureCode
  /// The competent agency; `nil` means the catalog's first agency for the procedure.
  public var destinationAgency: AgencyCode?
  /// Where the dossier is picked up.
  public var pickup: Pickup
  /// The citizen's consent to be told about the dossier, and how.
  public var notificationChannel: NotificationChannel = .none

  /// Creates a registration.
  public init(
    serviceType: ServiceType,
    applicant: Applicant,
    procedure: ProcedureCode,
    destinationAgency: AgencyCode?,
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
  /// For a handover (`HANDED_TO_AGENCY`): the agency and both signatures.
  public var handover: HandoverInput?
  /// For `APPOINTMENT_RECEIVED`: the date on the agency's slip, if the courier brought one.
  public var appointmentDate: CivilDate?

  /// Creates a recording.
  public init(
    trackingNumber: TrackingNumber,
    kind: EventKind,
    occurredAt: Timestamp? = nil,
    location: PostOfficeCode? = nil,
    note: BoundedText? = nil,
    handover: HandoverInput? = nil,
    appointmentDate: CivilDate? = nil
  ) {
    self.appointmentDate = appointmentDate
    self.handover = handover
    self.trackingNumber = trackingNumber
    self.kind = kind
    self.occurredAt = occurredAt
    self.location = location
    self.note = note
  }
}

/// When, where and why, common to every recording.
public struct EventContext: Hashable, Sendable {
  /// When, by the device's clock; `nil` means now.
  public var occurredAt: Timestamp?
  /// Where; `nil` means the caller's post office.
  public var location: PostOfficeCode?
  /// Staff's note.
  public var note: BoundedText?

  /// Creates a context.
  public init(
    occurredAt: Timestamp? = nil,
    location: PostOfficeCode? = nil,
    note: BoundedText? = nil
  ) {
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
  /// The shipment right after the events.
  public var shipment: Shipment
  /// The events appended, the requested one first (a last scan is followed by `DIGITIZED`).
  public var events: [ShipmentEvent]
  /// Whether this was a retry of an earlier recording.
  public var isReplay: Bool
  /// For an erasure: the scans (SHA-256) whose keys it destroyed, for their files to go.
  public var erasedScans: [String] = []

  /// The requested event.
  public var event: ShipmentEvent {
    // The service never returns an empty list for a recording.
    self.events[0]
  }
}
