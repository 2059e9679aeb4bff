import Foundation
import Testing
import Tracking

@testable import PostalGateway

/// Every transition of the table, on every service type, walked on a whole path — the shortest
/// way to its state, the transition, then the shortest way on to an end — with each leg's clock
/// checked after every step: a leg whose part of the journey is over has ended (or stopped).
@Suite("Every path through the transition table ends the clocks it should")
struct LifecyclePathTests {
  static let inputs: SlaInputs = {
    let map = try! AdministrativeMapFile.load(directory: try! GatewayDomain.bundledAdminUnits())
    return SlaInputs(
      calendar: try! CalendarFiles.load(directory: try! GatewayDomain.bundledCalendars()),
      policy: try! SlaPolicyFile.load(path: try! GatewayDomain.bundledSlaPolicy(), map: map)
        .policy,
      catalog: try! CatalogFile.decode(try! CatalogFile.bundledSample),
      map: map
    )
  }()

  /// One transition on one service type.
  struct Step: Sendable, CustomTestStringConvertible {
    var service: ServiceType
    var from: ShipmentState
    var event: EventKind
    var testDescription: String { "\(service.rawValue): \(from.rawValue) --\(event.rawValue)-->" }
  }

  /// Every legal (state, event) pair reachable on each service type, from the table.
  static let steps: [Step] = ServiceType.allCases.flatMap { service in
    Self.reachable(service).sorted { $0.rawValue < $1.rawValue }.flatMap { state in
      ShipmentLifecycle.legalEvents(in: state).sorted { $0.rawValue < $1.rawValue }
        .filter { ShipmentLifecycle.target(from: state, on: $0, serviceType: service) != nil }
        .map { Step(service: service, from: state, event: $0) }
    }
  }

  static func reachable(_ service: ServiceType) -> Set<ShipmentState> {
    Set(Self.shortestPaths(from: ShipmentLifecycle.initialState(for: service), service).keys)
  }

  /// The shortest event path from `start` to every state reachable from it.
  static func shortestPaths(
    from start: ShipmentState,
    _ service: ServiceType
  ) -> [ShipmentState: [EventKind]] {
    var paths: [ShipmentState: [EventKind]] = [start: []]
    var queue = [start]
    while !queue.isEmpty {
      let state = queue.removeFirst()
      for event in ShipmentLifecycle.legalEvents(in: state).sorted(by: { $0.rawValue < $1.rawValue }
      ) {
        guard let next = ShipmentLifecycle.target(from: state, on: event, serviceType: service),
          paths[next] == nil
        else { continue }
        paths[next] = paths[state]! + [event]
        queue.append(next)
      }
    }
    return paths
  }

  /// A shipment with the events, one every 20 minutes from Monday 2 March 2026, 08:00.
  static func shipment(_ service: ServiceType, _ kinds: [EventKind]) throws -> Shipment {
    let office = try PostOfficeCode(validating: "250000")
    let start = Int64(1_772_413_200) * 1_000_000  // 2026-03-02T08:00:00+07:00
    var machine = ShipmentLifecycle(
      state: ShipmentLifecycle.initialState(for: service),
      serviceType: service
    )
    var events = [
      ShipmentEvent(
        sequence: 1,
        kind: .registered,
        fromState: nil,
        toState: machine.state,
        occurredAt: Timestamp(microseconds: start),
        recordedAt: Timestamp(microseconds: start),
        actor: "path",
        location: office,
        note: nil
      )
    ]
    for kind in kinds {
      let from = machine.state
      guard case .moved(_, let to) = machine.apply(kind) else {
        Issue.record("\(kind.rawValue) refused in \(from.rawValue)")
        break
      }
      let at = Timestamp(microseconds: start + Int64(events.count) * 1_200_000_000)
      events.append(
        ShipmentEvent(
          sequence: events.count + 1,
          kind: kind,
          fromState: from,
          toState: to,
          occurredAt: at,
          recordedAt: at,
          actor: "path",
          location: office,
          note: nil
        )
      )
    }
    return Shipment(
      trackingNumber: try TrackingNumber(validating: "EA000000005VN"),
      serviceType: service,
      state: machine.state,
      applicant: Applicant(
        name: try PersonName(validating: "Nguyễn Văn An"),
        citizenID: try CitizenID(validating: "019084000123", currentYear: 2026),
        phone: try MobileNumber(validating: "0912345678"),
        address: Address(
          province: try ProvinceCode(validating: "19"),
          commune: try CommuneCode(validating: "05500"),
          detail: try BoundedText(validating: "Số 1", maximumLength: 200, required: true)
        )
      ),
      procedure: try ProcedureCode(validating: "2.000635"),
      destinationAgency: try AgencyCode(validating: "000.00.00.H55"),
      pickup: .counter(office),
      createdAt: events[0].occurredAt,
      updatedAt: events[events.count - 1].occurredAt,
      version: events.count,
      events: events
    )
  }

  /// The states in which a leg's part of the journey is over.
  static func legIsOver(_ hop: SlaHop, in state: ShipmentState, slip: Bool) -> Bool {
    if state.isFinal { return true }
    let afterAgency: Set<ShipmentState> = [
      .resultReady, .resultCollected, .outForDelivery, .attemptFailed, .rejectedByAgency,
      .returnCollected, .returnOutForDelivery, .returnAttemptFailed,
    ]
    switch hop {
    case .dossierLeg:
      let atAgency: Set<ShipmentState> = [
        .handedToAgency, .appointmentReceived, .supplementRequested,
      ]
      return afterAgency.contains(state) || state == .appointmentNotified
        || (!slip && atAgency.contains(state))
    case .agencyProcessing:
      return afterAgency.contains(state)
    case .resultLeg:
      return state == .attemptFailed
    case .returnLeg:
      return state == .returnAttemptFailed
    }
  }

  @Test("each leg's clock has ended wherever its part of the journey is over", arguments: steps)
  func clocksEnd(_ step: Step) throws {
    let service = step.service
    let prefix = try #require(
      Self.shortestPaths(from: ShipmentLifecycle.initialState(for: service), service)[step.from]
    )
    let after = try #require(
      ShipmentLifecycle.target(from: step.from, on: step.event, serviceType: service)
    )
    // On to the nearest end, if there is one.
    let onward =
      Self.shortestPaths(from: after, service)
      .filter { $0.key.isFinal }.values.min { $0.count < $1.count } ?? []
    let path = prefix + [step.event] + onward
    for length in (prefix.count + 1) ... path.count {
      let kinds = Array(path.prefix(length))
      let shipment = try Self.shipment(service, kinds)
      let slip = kinds.contains(.appointmentReceived)
      for hop in Self.inputs.hops(of: shipment)
      where Self.legIsOver(hop.hop, in: shipment.state, slip: slip) {
        #expect(
          !hop.isRunning,
          "\(hop.hop.rawValue) still running in \(shipment.state.rawValue) after \(kinds.map(\.rawValue))"
        )
      }
    }
  }

  @Test("the walk covers every row of the table and the return leg on every service")
  func coverage() {
    let walked = Set(Self.steps.map { "\($0.from.rawValue) \($0.event.rawValue)" })
    for transition in ShipmentLifecycle.table {
      for state in transition.from {
        #expect(
          walked.contains("\(state.rawValue) \(transition.event.rawValue)"),
          "\(state.rawValue) --\(transition.event.rawValue)--> is never walked"
        )
      }
    }
    for service in [ServiceType.dossierOnly, .dossierAndResult] {
      #expect(Self.reachable(service).contains(.returnedToApplicant), "\(service)")
    }
  }

  @Test("with an appointment slip, a result ready before the notice ends the dossier leg")
  func slipThenResultEndsTheDossierLeg() throws {
    let shipment = try Self.shipment(
      .dossierAndResult,
      [
        .collected, .dispatched, .handedToAgency, .appointmentReceived, .resultReady,
      ]
    )
    let leg = try #require(Self.inputs.hops(of: shipment).first { $0.hop == .dossierLeg })
    #expect(!leg.isRunning)
    #expect(leg.appointmentSlip)
    #expect(leg.endSequence == 6)
  }
}
