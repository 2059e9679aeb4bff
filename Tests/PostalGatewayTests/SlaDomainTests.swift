import Foundation
import Testing
import Tracking

@testable import PostalGateway

/// Office hours, the route-class rule, the policy file and each hop's timeline, with the bundled
/// calendars and policy.
@Suite("Service-level hops, policy and office hours")
struct SlaDomainTests {
  static let calendar = try! CalendarFiles.load(directory: try! GatewayDomain.bundledCalendars())
  static let map = try! AdministrativeMapFile.load(
    directory: try! GatewayDomain.bundledAdminUnits()
  )
  static let policy = try! SlaPolicyFile.load(
    path: try! GatewayDomain.bundledSlaPolicy(),
    map: Self.map
  ).policy
  static let catalog = try! CatalogFile.decode(try! CatalogFile.bundledSample)

  static func at(_ iso: String) -> Timestamp {
    let date = ISO8601DateFormatter().date(from: iso)!
    return Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
  }

  static func place(_ province: String, _ commune: String?) -> Place {
    Place(
      province: try! ProvinceCode(validating: province),
      commune: try! commune.map { try CommuneCode(validating: $0) }
    )
  }

  /// A shipment with the given events (kind, ISO time), numbered from 1.
  static func shipment(
    _ events: [(EventKind, String)],
    service: ServiceType = .dossierAndResult,
    pickup: Pickup? = nil,
    applicantAt address: (String, String) = ("19", "05500"),
    procedure: String = "1.001193"
  ) throws -> Shipment {
    let address = Address(
      province: try ProvinceCode(validating: address.0),
      commune: try CommuneCode(validating: address.1),
      detail: try BoundedText(validating: "Số 1", maximumLength: 200, required: true)
    )
    let office = try PostOfficeCode(validating: "250000")
    let history = events.enumerated().map { index, event in
      ShipmentEvent(
        sequence: index + 1,
        kind: event.0,
        // A physical handover files the dossier when it comes from transit.
        fromState: event.0 == .handedToAgency ? .inTransit : nil,
        toState: .requested,
        occurredAt: at(event.1),
        recordedAt: at(event.1),
        actor: "test",
        location: office,
        note: nil
      )
    }
    return Shipment(
      trackingNumber: try TrackingNumber(validating: "EA000000005VN"),
      serviceType: service,
      state: .requested,
      applicant: Applicant(
        name: try PersonName(validating: "Nguyễn Văn An"),
        citizenID: try CitizenID(validating: "087084000999", currentYear: 2026),
        phone: try MobileNumber(validating: "0912345678"),
        address: address
      ),
      procedure: try ProcedureCode(validating: procedure),
      destinationAgency: try AgencyCode(validating: "000.00.00.H55"),
      pickup: pickup ?? .counter(office),
      createdAt: at(events[0].1),
      updatedAt: at(events[events.count - 1].1),
      version: history.count,
      events: history
    )
  }

  var inputs: SlaInputs {
    SlaInputs(calendar: Self.calendar, policy: Self.policy, catalog: Self.catalog)
  }

  @Test("working minutes count only office sessions of working days")
  func workingMinutes() {
    let hours = OfficeHours.standard
    #expect(hours.minutesPerDay == 450)
    // Friday 24 January 2025 10:00 to Monday 3 February 2025 08:30: Tết lies between.
    let minutes = hours.workingMinutes(
      from: Self.at("2025-01-24T10:00:00+07:00"),
      to: Self.at("2025-02-03T08:30:00+07:00"),
      calendar: Self.calendar
    )
    #expect(minutes == 90 + 210 + 60)
    // Lunch does not count.
    #expect(
      hours.workingMinutes(
        from: Self.at("2026-03-02T11:00:00+07:00"),
        to: Self.at("2026-03-02T14:00:00+07:00"),
        calendar: Self.calendar
      ) == 30 + 30
    )
  }

  @Test("the at-risk instant skips lunch, weekends and Tết")
  func atRiskInstant() {
    let hours = OfficeHours.standard
    // 360 working minutes from the start of Friday 24 January 2025: 07:30 + 240 + 120 → 15:30.
    #expect(
      hours.instant(
        afterWorkingMinutes: 360,
        countingFrom: CivilDate(year: 2025, month: 1, day: 24),
        calendar: Self.calendar
      ) == Self.at("2025-01-24T15:30:00+07:00")
    )
    // 500 minutes from Friday 24 January 2025: the rest falls on Monday 3 February, after Tết.
    #expect(
      hours.instant(
        afterWorkingMinutes: 500,
        countingFrom: CivilDate(year: 2025, month: 1, day: 24),
        calendar: Self.calendar
      ) == Self.at("2025-02-03T08:20:00+07:00")
    )
  }

  @Test(
    "the route class comes from the leg's two ends by the policy's rule",
    arguments: [
      ("19", "05443", "19", "05443", "WITHIN_COMMUNE"),
      ("19", "05443", "19", "05500", "WITHIN_PROVINCE"),
      ("01", "00004", "79", "26740", "BETWEEN_MAJOR_CITIES"),
      ("19", "05443", "01", "00004", "INTER_PROVINCE"),
      // A commune (not a ward) of a centrally-run city is not in the urban area.
      ("01", "00004", "79", "25777", "INTER_PROVINCE"),
    ]
  )
  func routeClasses(
    from: String,
    fromCommune: String,
    to: String,
    toCommune: String,
    expected: String
  ) {
    let (route, why) = Self.policy.routeClass(
      from: Self.place(from, fromCommune),
      to: Self.place(to, toCommune),
      map: Self.map
    )
    #expect(route.rawValue == expected)
    #expect(why.contains(Self.policy.version))
  }

  @Test("an end the policy does not know gives the policy's fallback class, and says so")
  func unknownPlace() {
    let (route, why) = Self.policy.routeClass(
      from: Self.place("19", nil),
      to: nil,
      map: Self.map
    )
    #expect(route == .interProvince)
    #expect(why.contains("UNKNOWN PLACE"))
  }

  @Test(
    "the worked example: a dossier collected Friday 24 January 2025 for another commune is due 4 February, after Tết"
  )
  func dossierLegOverTet() throws {
    let events: [(EventKind, String)] = [
      (.registered, "2025-01-23T08:00:00+07:00"), (.collected, "2025-01-24T09:00:00+07:00"),
      (.handedToAgency, "2025-02-04T16:00:00+07:00"),
    ]
    let shipment = try Self.shipment(
      events,
      pickup: .home(
        address: Address(
          province: try ProvinceCode(validating: "19"),
          commune: try CommuneCode(validating: "05500"),
          detail: try BoundedText(validating: "Số 1", maximumLength: 200, required: true)
        ),
        window: TimeWindow(
          start: Self.at("2025-01-24T08:00:00+07:00"),
          end: Self.at("2025-01-24T10:00:00+07:00")
        ),
        postOffice: try PostOfficeCode(validating: "250000")
      )
    )
    let leg = try #require(self.inputs.hops(of: shipment).first)
    #expect(leg.hop == .dossierLeg)
    #expect(leg.routeClass == .withinProvince)
    #expect(leg.due == CivilDate(year: 2025, month: 2, day: 4))
    #expect(leg.verdict == .onTime)
    #expect(leg.calendarVersions == [Self.calendar.year(2025).version])
    #expect(leg.policyVersion == Self.policy.version)
  }

  @Test("an appointment slip handed back doubles the dossier leg and moves its end to the notice")
  func appointmentSlipDoubles() throws {
    let shipment = try Self.shipment([
      (.registered, "2026-03-02T08:00:00+07:00"), (.collected, "2026-03-02T09:00:00+07:00"),
      (.handedToAgency, "2026-03-03T09:00:00+07:00"),
      (.appointmentReceived, "2026-03-03T10:00:00+07:00"),
      (.appointmentNotified, "2026-03-04T10:00:00+07:00"),
    ])
    let leg = try #require(self.inputs.hops(of: shipment).first { $0.hop == .dossierLeg })
    #expect(leg.appointmentSlip)
    #expect(leg.routeClass == .withinCommune)  // 250000 and the agency share commune 05434
    #expect(leg.workingDays == 2)
    #expect(leg.due == CivilDate(year: 2026, month: 3, day: 4))
    #expect(leg.endSequence == 5)
    #expect(leg.verdict == .onTime)
  }

  @Test("a supplement request stops the agency's clock and its delivery restarts it from zero")
  func supplementRestartsTheClock() throws {
    let requested = try Self.shipment([
      (.registered, "2026-03-02T08:00:00+07:00"), (.collected, "2026-03-02T09:00:00+07:00"),
      (.handedToAgency, "2026-03-02T10:00:00+07:00"),
      (.supplementRequested, "2026-03-04T10:00:00+07:00"),
    ])
    let stopped = try #require(
      self.inputs.hops(of: requested).first { $0.hop == .agencyProcessing }
    )
    #expect(stopped.stoppedBy == .supplementRequested)
    #expect(!stopped.isRunning)
    #expect(stopped.verdict == nil)

    var restarted = requested
    restarted.events.append(
      ShipmentEvent(
        sequence: 5,
        kind: .supplementDelivered,
        fromState: .supplementRequested,
        toState: .handedToAgency,
        occurredAt: Self.at("2026-03-09T16:00:00+07:00"),
        recordedAt: Self.at("2026-03-09T16:00:00+07:00"),
        actor: "test",
        location: try PostOfficeCode(validating: "250000"),
        note: nil
      )
    )
    restarted.version = 5
    let running = try #require(
      self.inputs.hops(of: restarted).first { $0.hop == .agencyProcessing }
    )
    #expect(running.startSequence == 5)
    #expect(running.isRunning)
    // 1.001193 is a same-day civil-status procedure: 16:00 is after its 15:00 cut-off, so filed Tue 10 March.
    let days = try #require(Self.catalog.procedure(try ProcedureCode(validating: "1.001193")))
      .processingWorkingDays
    #expect(running.countedFrom == CivilDate(year: 2026, month: 3, day: 10))
    #expect(running.due == Self.calendar.adding(workingDays: days, after: running.countedFrom))
  }

  @Test(
    "an extension moves the appointment and the at-risk time, not the legal due date; a supplement restart drops it"
  )
  func extensionMovesTheClock() throws {
    // 1.011442: 3 working days.
    var shipment = try Self.shipment(
      [
        (.registered, "2026-03-02T08:00:00+07:00"), (.collected, "2026-03-02T09:00:00+07:00"),
        (.handedToAgency, "2026-03-02T10:00:00+07:00"),
      ],
      procedure: "1.011442"
    )
    let before = try #require(self.inputs.hops(of: shipment).first { $0.hop == .agencyProcessing })
    func append(_ kind: EventKind, _ at: String, _ details: EventDetails? = nil) throws {
      shipment.events.append(
        ShipmentEvent(
          sequence: shipment.events.count + 1,
          kind: kind,
          fromState: nil,
          toState: .handedToAgency,
          occurredAt: Self.at(at),
          recordedAt: Self.at(at),
          actor: "test",
          location: try PostOfficeCode(validating: "250000"),
          note: nil,
          details: details
        )
      )
      shipment.version = shipment.events.count
    }
    let newDue = before.due.adding(days: 14)
    try append(
      .processingExtended,
      "2026-03-03T09:00:00+07:00",
      .processingExtension(
        ProcessingExtension(
          previousDueDate: before.due,
          newDueDate: newDue,
          reason: "verification",
          apology: "sorry"
        )
      )
    )
    let after = try #require(self.inputs.hops(of: shipment).first { $0.hop == .agencyProcessing })
    #expect(after.due == before.due)
    #expect(after.extendedTo == newDue)
    #expect(after.startSequence == before.startSequence)
    #expect(after.dueAt > before.dueAt)
    #expect(after.atRiskAt > before.atRiskAt)
    #expect(after.steps.contains { $0.contains("extended on 2026-03-03") })

    try append(.supplementRequested, "2026-03-04T09:00:00+07:00")
    try append(.supplementDelivered, "2026-03-05T09:00:00+07:00")
    let restarted = try #require(
      self.inputs.hops(of: shipment).first { $0.hop == .agencyProcessing }
    )
    #expect(restarted.startSequence == 6)
    #expect(restarted.extendedTo == nil)
    #expect(
      restarted.due
        == Self.calendar.adding(workingDays: before.workingDays, after: restarted.countedFrom)
    )
  }

  @Test("the result leg runs from its collection at the agency to the first delivery attempt")
  func resultLeg() throws {
    let shipment = try Self.shipment(
      [
        (.registered, "2026-03-02T08:00:00+07:00"), (.resultCollected, "2026-03-02T09:00:00+07:00"),
        (.deliveryFailed, "2026-03-09T09:00:00+07:00"), (.delivered, "2026-03-10T09:00:00+07:00"),
      ],
      service: .resultOnly,
      applicantAt: ("01", "00001")
    )
    let hops = self.inputs.hops(of: shipment)
    #expect(hops.map(\.hop) == [.resultLeg])
    #expect(hops[0].routeClass == .interProvince)
    #expect(hops[0].due == CivilDate(year: 2026, month: 3, day: 6))
    #expect(hops[0].endSequence == 3)
    #expect(hops[0].verdict == .late)
  }

  @Test("a cancelled shipment's running leg stops without a verdict")
  func cancellationStops() throws {
    let shipment = try Self.shipment([
      (.registered, "2026-03-02T08:00:00+07:00"), (.collected, "2026-03-02T09:00:00+07:00"),
      (.cancelled, "2026-03-02T10:00:00+07:00"),
    ])
    let leg = try #require(self.inputs.hops(of: shipment).first)
    #expect(leg.stoppedBy == .cancelled)
    #expect(leg.verdict == nil)
  }

  @Test("verdicts compare the end day with the due day")
  func verdicts() {
    let due = CivilDate(year: 2026, month: 3, day: 3)
    #expect(HopVerdict(endedOn: due.adding(days: -1), due: due) == .early)
    #expect(HopVerdict(endedOn: due, due: due) == .onTime)
    #expect(HopVerdict(endedOn: due.adding(days: 1), due: due) == .late)
  }

  @Test("report percentiles are nearest-rank")
  func percentiles() {
    let values = (1 ... 10).map(Double.init)
    #expect(SlaReport.percentile(values, 0.5) == 5)
    #expect(SlaReport.percentile(values, 0.9) == 9)
    #expect(SlaReport.percentile([], 0.9) == 0)
    #expect(SlaReport.percentile([7], 0.5) == 7)
  }

  @Test(
    "malformed policy files are refused, naming what is wrong",
    arguments: [
      (
        #"{"version":"","routeClasses":{"A":1},"routeRules":[],"unknownPlaceClass":"A"}"#, "version"
      ),
      (
        #"{"version":"v","routeClasses":{"A":1},"routeRules":[{"when":"ANY","class":"B"}],"unknownPlaceClass":"A"}"#,
        "routeRules[0].class"
      ),
      (
        #"{"version":"v","routeClasses":{"A":1},"routeRules":[{"when":"NEAR","class":"A"}],"unknownPlaceClass":"A"}"#,
        "routeRules[0].when"
      ),
      (
        #"{"version":"v","routeClasses":{"A":1},"routeRules":[],"unknownPlaceClass":"A","atRiskShare":1.5}"#,
        "atRiskShare"
      ),
      (
        #"{"version":"v","routeClasses":{"A":1},"routeRules":[],"unknownPlaceClass":"A","officeHours":[{"start":"13:00","end":"12:00"}]}"#,
        "sessions"
      ),
      (
        #"{"version":"v","routeClasses":{"A":1},"routeRules":[],"unknownPlaceClass":"A","intakeCutoff":"25:00"}"#,
        "sameDayCutoff"
      ),
      (
        #"{"version":"v","routeClasses":{"A":1},"routeRules":[],"unknownPlaceClass":"A","places":{"x":{"province":"1"}}}"#,
        "places[x]"
      ),
    ]
  )
  func malformedPolicies(json: String, mentions: String) throws {
    let path = (temporaryDirectory() as NSString).appendingPathComponent("policy.json")
    try Data(json.utf8).write(to: URL(fileURLWithPath: path))
    do {
      _ = try SlaPolicyFile.load(path: path, map: Self.map)
      Issue.record("accepted \(json)")
    } catch let error as ConfigurationError {
      #expect(error.description.contains(mentions), "\(error)")
    }
  }
}
