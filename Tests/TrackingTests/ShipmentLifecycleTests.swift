import Testing
import Tracking

@Suite("Shipment state machine")
struct ShipmentLifecycleTests {
  /// The expected table, written out independently of the one under test.
  static let expected: [ShipmentState: [EventKind: ShipmentState]] = [
    .requested: [
      .guidedIncomplete: .incompleteGuided, .collected: .collected, .cancelled: .cancelled,
    ],
    .incompleteGuided: [
      .guidedIncomplete: .incompleteGuided, .collected: .collected, .cancelled: .cancelled,
    ],
    .collected: [.dispatched: .inTransit],
    .inTransit: [.transitScan: .inTransit, .handedToAgency: .handedToAgency],
    .handedToAgency: [.appointmentReceived: .appointmentReceived],
    .appointmentReceived: [.appointmentNotified: .appointmentNotified],
    .appointmentNotified: [:],
    .awaitingResult: [.cancelled: .cancelled],
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
