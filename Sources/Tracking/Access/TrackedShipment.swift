/// What a citizen may see of a shipment: no citizen id, no address, no staff notes or staff
/// identities, and the name and phone masked.
public struct TrackedShipment: Hashable, Sendable {
  /// One line of the citizen's timeline.
  public struct Entry: Hashable, Sendable {
    /// What happened.
    public var kind: EventKind
    /// The state after it.
    public var state: ShipmentState
    /// When it happened.
    public var occurredAt: Timestamp
    /// The post office where it happened.
    public var location: PostOfficeCode
  }

  /// The S10 number.
  public var trackingNumber: TrackingNumber
  /// Which legs the postal service carries.
  public var serviceType: ServiceType
  /// The current state.
  public var state: ShipmentState
  /// e.g. `N*** V** A`.
  public var maskedName: String
  /// e.g. `091****678`.
  public var maskedPhone: String
  /// The procedure.
  public var procedure: ProcedureCode
  /// The competent agency.
  public var destinationAgency: AgencyCode
  /// When it was registered.
  public var createdAt: Timestamp
  /// When it last changed.
  public var updatedAt: Timestamp
  /// The history as corrected, oldest first: no voided events and no corrections.
  public var timeline: [Entry]
  /// While the agency processes the dossier: its due date.
  public var agencyDeadline: Deadline?
  /// Each leg's due date and, once it ended, its verdict.
  public var hops: [HopTimeliness]
  /// The result appointment the citizen holds: the agency's date, or the new one after its
  /// extension with an apology.
  public var appointmentDate: CivilDate?
  /// While a supplement is awaited: what the agency asks for.
  public var supplementItems: [SupplementItem]
  /// The agency's reasons, when it refused the dossier.
  public var refusalReason: String?
  /// How the citizen chose to be told about the dossier.
  public var notificationChannel: NotificationChannel

  /// The citizen's view of a shipment.
  /// - Parameters:
  ///   - shipment: The shipment with its history.
  ///   - agencyDeadline: The running agency deadline.
  ///   - hops: The legs' timeliness.
  public init(_ shipment: Shipment, agencyDeadline: Deadline? = nil, hops: [HopTimeliness] = []) {
    self.hops = hops
    self.agencyDeadline = agencyDeadline
    let agency = hops.last { $0.hop == .agencyProcessing }
    self.appointmentDate = agency?.extendedTo ?? agency?.appointmentDate
    self.supplementItems =
      shipment.state == .supplementRequested
      ? shipment.effectiveEvents.reversed().lazy.compactMap {
        if case .supplement(let request) = $0.details { return request.items }
        return nil
      }.first ?? [] : []
    if let refusal = shipment.refusal, case .rejected(let reason) = refusal.outcome {
      self.refusalReason = reason
    }
    self.trackingNumber = shipment.trackingNumber
    self.serviceType = shipment.serviceType
    self.state = shipment.state
    let erased = shipment.personalDataErasedAt != nil
    self.maskedName = erased ? "" : shipment.applicant.name.masked
    self.maskedPhone = erased ? "" : shipment.applicant.phone.masked
    self.notificationChannel = erased ? .none : shipment.notificationChannel
    self.procedure = shipment.procedure
    self.destinationAgency = shipment.destinationAgency
    self.createdAt = shipment.createdAt
    self.updatedAt = shipment.updatedAt
    // Voided events and the corrections themselves are staff records: the citizen sees the
    // history as corrected, each entry with the state it leads to without the voided ones.
    var machine = ShipmentLifecycle(
      state: ShipmentLifecycle.initialState(for: shipment.serviceType),
      serviceType: shipment.serviceType
    )
    // Access events (a reissued code, an unlock) are staff records, not the dossier's path.
    self.timeline = shipment.effectiveEvents.filter { !$0.kind.isAccessEvent }.map { event in
      // Effective events follow one another: a correction that broke the chain is refused.
      if event.kind != .registered { _ = machine.apply(event.kind) }
      return Entry(
        kind: event.kind,
        state: event.kind == .registered ? event.toState : machine.state,
        occurredAt: event.occurredAt,
        location: event.location
      )
    }
  }
}
