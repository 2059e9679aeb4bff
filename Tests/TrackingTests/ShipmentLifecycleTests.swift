import Testing
import Tracking

@Suite("Shipment state machine")
struct ShipmentLifecycleTests {
  /// The expected table, written out independently of the one under test.
  static let expected: [ShipmentState: [EventKind: ShipmentState]] = Self.movements.reduce(
    into: [:]
  ) { table, row in
    // Access events are legal everywhere and move nothing.
    table[row.key] = row.value.merging(
      [.verificationCodeReissued: row.key, .trackingUnlocked: row.key]
    ) { moved, _ in moved }
  }

  static let movements: [ShipmentState: [EventKind: ShipmentState]] = [
    .requested: [
      .guidedIncomplete: .incompleteGuided, .collected: .collected, .cancelled: .cancelled,
    ],
    .incompleteGuided: [
      .guidedIncomplete: .incompleteGuided, .collected: .collected, .cancelled: .cancelled,
    ],
    .collected: [
      .scanned: .collected, .digitized: .digitized, .dispatched: .inTransit, .damaged: .collected,
      .lost: .lost,
    ],
    .digitized: [
      .scanned: .digitized, .dispatched: .inTransit, .damaged: .digitized, .lost: .lost,
      .agencyAccepted: .handedToAgency, .agencyRejected: .rejectedByAgency,
    ],
    .inTransit: [
      .transitScan: .inTransit, .handedToAgency: .handedToAgency, .damaged: .inTransit,
      .lost: .lost, .agencyAccepted: .handedToAgency, .agencyRejected: .rejectedByAgency,
    ],
    .handedToAgency: [
      .appointmentReceived: .appointmentReceived, .handedToAgency: .handedToAgency,
      .supplementRequested: .supplementRequested, .resultReady: .resultReady,
      .processingExtended: .handedToAgency, .agencyRejected: .rejectedByAgency,
    ],
    .appointmentReceived: [
      .appointmentNotified: .appointmentNotified, .handedToAgency: .appointmentReceived,
      .supplementRequested: .supplementRequested, .resultReady: .resultReady,
      .processingExtended: .appointmentReceived,
    ],
    .appointmentNotified: [
      .resultReady: .resultReady, .resultCollected: .resultCollected,
      .handedToAgency: .appointmentNotified, .supplementRequested: .supplementRequested,
      .processingExtended: .appointmentNotified,
    ],
    .supplementRequested: [
      .supplementDelivered: .handedToAgency, .handedToAgency: .supplementRequested,
    ],
    .rejectedByAgency: [.returnCollected: .returnCollected],
    .returnCollected: [
      .outForDelivery: .returnOutForDelivery, .damaged: .returnCollected, .lost: .lost,
    ],
    .returnOutForDelivery: [
      .delivered: .returnedToApplicant, .deliveryFailed: .returnAttemptFailed,
      .damaged: .returnOutForDelivery, .lost: .lost,
    ],
    .returnAttemptFailed: [
      .outForDelivery: .returnOutForDelivery, .delivered: .returnedToApplicant,
      .deliveryFailed: .returnAttemptFailed, .returnedToAgency: .returnedToAgency,
      .damaged: .returnAttemptFailed, .lost: .lost,
    ],
    .returnedToApplicant: [:],
    .awaitingResult: [
      .resultReady: .resultReady, .resultCollected: .resultCollected, .cancelled: .cancelled,
    ],
    .resultReady: [.resultCollected: .resultCollected],
    .resultCollected: [.outForDelivery: .outForDelivery, .damaged: .resultCollected, .lost: .lost],
    .outForDelivery: [
      .delivered: .delivered, .deliveryFailed: .attemptFailed, .damaged: .outForDelivery,
      .lost: .lost,
    ],
    .attemptFailed: [
      .outForDelivery: .outForDelivery, .delivered: .delivered, .deliveryFailed: .attemptFailed,
      .returnedToAgency: .returnedToAgency, .damaged: .attemptFailed, .lost: .lost,
    ],
    .delivered: [:],
    .returnedToAgency: [:],
    .lost: [:],
    .cancelled: [:],
  ]

  static let pairs: [(ShipmentState, EventKind)] = ShipmentState.allCases.flatMap { state in
    EventKind.allCases.map { (state, $0) }
  }

  @Test("every (state, event) pair moves as the table says or is refused", arguments: pairs)
  func transition(state: ShipmentState, event: EventKind) {
    var machine = ShipmentLifecycle(state: state)
    let outcome = machine.apply(event)
    if let target = Self.expected[state]?[event] {
      #expect(outcome == .moved(from: state, to: target))
      #expect(machine.state == target)
    } else {
      #expect(outcome == .refused(in: state))
      #expect(machine.state == state, "a refused event changes nothing")
    }
  }

  @Test("a dossier-only shipment refuses every result-leg event")
  func dossierOnlyHasNoResultLeg() {
    for event in EventKind.allCases where event.isResultLeg {
      var machine = ShipmentLifecycle(state: .appointmentNotified, serviceType: .dossierOnly)
      #expect(machine.apply(event) == .refused(in: .appointmentNotified))
    }
  }

  @Test("a refused dossier comes back on a dossier-only service too")
  func dossierOnlyReturnsARefusedDossier() {
    var machine = ShipmentLifecycle(state: .rejectedByAgency, serviceType: .dossierOnly)
    for event in [EventKind.returnCollected, .outForDelivery, .deliveryFailed, .delivered] {
      guard case .moved = machine.apply(event) else {
        Issue.record("\(event) refused in \(machine.state)")
        return
      }
    }
    #expect(machine.state == .returnedToApplicant)
  }

  @Test("normalized statuses and UPU codes")
  func normalized() {
    #expect(ShipmentState.requested.normalized == .infoReceived)
    #expect(ShipmentState.digitized.normalized == .inTransit)
    #expect(ShipmentState.appointmentNotified.normalized == .atAgency)
    #expect(ShipmentState.resultReady.normalized == .resultReady)
    #expect(ShipmentState.attemptFailed.normalized == .attemptFailed)
    #expect(ShipmentState.returnedToAgency.normalized == .returned)
    #expect(ShipmentState.lost.normalized == .exception)
    #expect(EventKind.collected.upuEventCode == "EMA")
    #expect(EventKind.outForDelivery.upuEventCode == "EDG")
    #expect(EventKind.deliveryFailed.upuEventCode == "EMH")
    #expect(EventKind.delivered.upuEventCode == "EMI")
    #expect(EventKind.handedToAgency.upuEventCode == nil)
  }

  @Test("registration is never a transition")
  func registrationIsNotATransition() {
    for state in ShipmentState.allCases {
      #expect(ShipmentLifecycle.target(from: state, on: .registered) == nil)
    }
  }

  @Test("the initial state depends on the service type")
  func initialState() {
    #expect(ShipmentLifecycle.initialState(for: .dossierOnly) == .requested)
    #expect(ShipmentLifecycle.initialState(for: .dossierAndResult) == .requested)
    #expect(ShipmentLifecycle.initialState(for: .resultOnly) == .awaitingResult)
  }

  @Test("legal events per state match the table")
  func legalEvents() {
    for state in ShipmentState.allCases {
      #expect(
        ShipmentLifecycle.legalEvents(in: state) == Set(Self.expected[state]?.keys ?? [:].keys)
      )
    }
  }
}
