/// The shipment's state machine: one transition table, and the rule for the first state.
///
/// The machine does no I/O: ``apply(_:)`` takes an event and returns an outcome the caller acts
/// on. Anything the table does not list is illegal, and an illegal event changes nothing.
public struct ShipmentLifecycle: Hashable, Sendable {
  /// One row of the table: `event` moves a shipment in any of `from` to `to`.
  public struct Transition: Hashable, Sendable {
    /// The states the event is legal in.
    public var from: Set<ShipmentState>
    /// The event.
    public var event: EventKind
    /// The state it leads to; `nil` means it stays where it is.
    public var to: ShipmentState?
  }

  /// The transition table, dossier leg first. (The registration event creates the shipment and
  /// is not a transition; see ``initialState(for:)``.)
  public static let table: [Transition] = [
    // Dossier leg.
    Transition(
      from: [.requested, .incompleteGuided],
      event: .guidedIncomplete,
      to: .incompleteGuided
    ),
    Transition(from: [.requested, .incompleteGuided], event: .collected, to: .collected),
    Transition(from: [.collected], event: .scanned, to: .collected),
    Transition(from: [.digitized], event: .scanned, to: .digitized),
    Transition(from: [.collected], event: .digitized, to: .digitized),
    Transition(from: [.collected, .digitized], event: .dispatched, to: .inTransit),
    Transition(from: [.inTransit], event: .transitScan, to: .inTransit),
    Transition(from: [.inTransit], event: .handedToAgency, to: .handedToAgency),
    // The paper dossier handed over after the agency accepted it electronically: the custody
    // record of the physical handover, no change of state.
    Transition(
      from: [.handedToAgency, .appointmentReceived, .appointmentNotified, .supplementRequested],
      event: .handedToAgency,
      to: nil
    ),
    // Electronic handoff (AgencyService / AgencyIntake): the agency's decision.
    Transition(from: [.digitized, .inTransit], event: .agencyAccepted, to: .handedToAgency),
    // A refusal at intake, or of a dossier the agency holds on paper (NĐ 61/2018 art. 19.8).
    Transition(
      from: [.digitized, .inTransit, .handedToAgency],
      event: .agencyRejected,
      to: .rejectedByAgency
    ),
    Transition(from: [.handedToAgency], event: .appointmentReceived, to: .appointmentReceived),
    Transition(from: [.appointmentReceived], event: .appointmentNotified, to: .appointmentNotified),
    Transition(
      from: [.handedToAgency, .appointmentReceived, .appointmentNotified],
      event: .supplementRequested,
      to: .supplementRequested
    ),
    Transition(from: [.supplementRequested], event: .supplementDelivered, to: .handedToAgency),
    // The agency's one extension: a new due date, no change of state.
    Transition(
      from: [.handedToAgency, .appointmentReceived, .appointmentNotified],
      event: .processingExtended,
      to: nil
    ),
    // Result leg.
    Transition(
      from: [.handedToAgency, .appointmentReceived, .appointmentNotified, .awaitingResult],
      event: .resultReady,
      to: .resultReady
    ),
    Transition(
      from: [.appointmentNotified, .awaitingResult, .resultReady],
      event: .resultCollected,
      to: .resultCollected
    ),
    Transition(
      from: [.resultCollected, .attemptFailed],
      event: .outForDelivery,
      to: .outForDelivery
    ),
    Transition(from: [.outForDelivery, .attemptFailed], event: .delivered, to: .delivered),
    Transition(
      from: [.outForDelivery, .attemptFailed],
      event: .deliveryFailed,
      to: .attemptFailed
    ),
    Transition(from: [.attemptFailed], event: .returnedToAgency, to: .returnedToAgency),
    // Return leg of a refused dossier (QĐ 45/2016 art. 8.3; NĐ 61/2018 art. 19.8): delivered
    // like a result, with the same identity check, invitations and return-to-agency rule.
    Transition(from: [.rejectedByAgency], event: .returnCollected, to: .returnCollected),
    Transition(
      from: [.returnCollected, .returnAttemptFailed],
      event: .outForDelivery,
      to: .returnOutForDelivery
    ),
    Transition(
      from: [.returnOutForDelivery, .returnAttemptFailed],
      event: .delivered,
      to: .returnedToApplicant
    ),
    Transition(
      from: [.returnOutForDelivery, .returnAttemptFailed],
      event: .deliveryFailed,
      to: .returnAttemptFailed
    ),
    Transition(from: [.returnAttemptFailed], event: .returnedToAgency, to: .returnedToAgency),
    // Exceptions, wherever the envelope is in postal hands.
    Transition(
      from: Set(ShipmentState.allCases.filter(\.isHeldByPost)),
      event: .damaged,
      to: nil
    ),
    Transition(from: Set(ShipmentState.allCases.filter(\.isHeldByPost)), event: .lost, to: .lost),
    Transition(
      from: [.requested, .incompleteGuided, .awaitingResult],
      event: .cancelled,
      to: .cancelled
    ),
    // Access events, custody-logged in every state; they move nothing.
    Transition(from: Set(ShipmentState.allCases), event: .verificationCodeReissued, to: nil),
    Transition(from: Set(ShipmentState.allCases), event: .trackingUnlocked, to: nil),
  ]

  private static let index: [ShipmentState: [EventKind: ShipmentState]] = {
    var index: [ShipmentState: [EventKind: ShipmentState]] = [:]
    for transition in Self.table {
      for state in transition.from {
        precondition(index[state]?[transition.event] == nil, "the table lists a pair twice")
        index[state, default: [:]][transition.event] = transition.to ?? state
      }
    }
    return index
  }()

  /// The state a new shipment starts in.
  /// - Parameter serviceType: The legs the postal service carries.
  /// - Returns: `requested` when there is a dossier to collect, `awaitingResult` otherwise.
  public static func initialState(for serviceType: ServiceType) -> ShipmentState {
    serviceType.hasDossierLeg ? .requested : .awaitingResult
  }

  /// The state an event leads to, or `nil` when it is illegal there.
  /// - Parameters:
  ///   - state: The current state.
  ///   - event: The event.
  ///   - serviceType: The shipment's legs (result-leg events are illegal without a result leg).
  public static func target(
    from state: ShipmentState,
    on event: EventKind,
    serviceType: ServiceType = .dossierAndResult
  ) -> ShipmentState? {
    // A refused dossier comes back on any service: the return leg uses the delivery events.
    if event.isResultLeg, serviceType == .dossierOnly, !state.isReturnLeg { return nil }
    return Self.index[state]?[event]
  }

  /// The events legal in a state.
  /// - Parameter state: The current state.
  public static func legalEvents(in state: ShipmentState) -> Set<EventKind> {
    Set(Self.index[state].map { Array($0.keys) } ?? [])
  }

  /// What ``apply(_:)`` decided.
  public enum Outcome: Hashable, Sendable {
    /// The shipment moved (possibly to the same state).
    case moved(from: ShipmentState, to: ShipmentState)
    /// The event is illegal in the current state; nothing changed.
    case refused(in: ShipmentState)
  }

  /// The current state.
  public private(set) var state: ShipmentState
  /// The shipment's legs.
  public let serviceType: ServiceType

  /// Creates a machine in a state.
  /// - Parameters:
  ///   - state: The current state.
  ///   - serviceType: The shipment's legs.
  public init(state: ShipmentState, serviceType: ServiceType = .dossierAndResult) {
    self.state = state
    self.serviceType = serviceType
  }

  /// Applies an event.
  /// - Parameter event: What happened.
  /// - Returns: Whether the shipment moved, and where.
  public mutating func apply(_ event: EventKind) -> Outcome {
    guard let next = Self.target(from: self.state, on: event, serviceType: self.serviceType) else {
      return .refused(in: self.state)
    }
    let previous = self.state
    self.state = next
    return .moved(from: previous, to: next)
  }
}
