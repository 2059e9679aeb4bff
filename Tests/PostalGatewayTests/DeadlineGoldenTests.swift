import ArgumentParser
import Foundation
import Testing
import Tracking

@testable import PostalGateway

/// Due dates against the bundled calendars, policy and map, from the golden table in
/// `Resources/deadlines-golden.json` (worked out by hand; its `description` says from what).
/// Each case is checked twice: by the domain, and by the `sla due` command a person would run.
@Suite("Deadlines in Vietnamese working time: golden table")
struct DeadlineGoldenTests {
  static let calendar = try! CalendarFiles.load(directory: try! GatewayDomain.bundledCalendars())
  static let map = try! AdministrativeMapFile.load(
    directory: try! GatewayDomain.bundledAdminUnits()
  )
  static let policy = try! SlaPolicyFile.load(
    path: try! GatewayDomain.bundledSlaPolicy(),
    map: Self.map
  ).policy
  static let calculator = DeadlineCalculator(calendar: Self.calendar, policy: Self.policy)
  static let golden: Golden = {
    // The table is a resource of this target; a failure here is a build problem.
    let url = Bundle.module.url(forResource: "deadlines-golden", withExtension: "json")!
    return try! JSONDecoder().decode(Golden.self, from: try! Data(contentsOf: url))
  }()

  static func date(_ iso: String) -> CivilDate { try! CivilDate(iso: iso) }

  static func instant(_ iso: String) -> Timestamp {
    let date = ISO8601DateFormatter().date(from: iso)!
    return Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
  }

  /// The golden file.
  struct Golden: Decodable {
    var postal: [PostalCase]
    var agency: [AgencyCase]
    var dossiers: [DossierCase]
    var routes: [RouteCase]
  }

  struct PostalCase: Decodable, Sendable, CustomTestStringConvertible {
    var j: String
    var route: String
    var slip: Bool
    var due: String
    var why: String
    var testDescription: String { "J=\(j) \(route)\(slip ? "+slip" : "") → \(due): \(why)" }
  }

  struct AgencyCase: Decodable, Sendable, CustomTestStringConvertible {
    var filed: String
    var workingDays: Int
    var cutoff: String?
    var due: String
    var why: String
    var testDescription: String {
      "filed \(filed) + \(workingDays)\(cutoff.map { " (cut-off \($0))" } ?? "") → \(due): \(why)"
    }
  }

  struct DossierCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Event: Decodable, Sendable {
      var kind: String
      var at: String
      var appointment: String?
      var newDue: String?
    }
    struct Expect: Decodable, Sendable {
      var due: String
      var verdict: String?
      var stoppedBy: String?
      var running: Bool?
      var countedFrom: String?
      var appointment: String?
      var appointmentLaterThanLaw: Bool?
      var extendedTo: String?
      var lateWithApology: Bool?
      var lateSupplementRequests: Int?
    }
    var why: String
    var workingDays: Int
    var cutoff: String?
    var events: [Event]
    var expect: Expect
    var testDescription: String { why }
  }

  struct RouteCase: Decodable, Sendable, CustomTestStringConvertible {
    struct End: Decodable, Sendable {
      var province: String
      var commune: String
      var text: String { "\(province)/\(commune)" }
    }
    var from: End
    var to: End
    var `class`: String
    var why: String
    var testDescription: String { "\(from.text) → \(to.text): \(`class`), \(why)" }
  }

  @Test("the golden table has at least 60 cases, every route class and the 2026 swap both ways")
  func tableCoverage() {
    let g = Self.golden
    #expect(g.postal.count + g.agency.count + g.dossiers.count + g.routes.count >= 60)
    #expect(Set(g.routes.map(\.class)) == Set(Self.policy.postal.workingDays.keys.map(\.rawValue)))
    let swap = g.postal.map(\.due) + g.agency.map(\.due)
    #expect(swap.contains("2026-08-22") && swap.contains("2026-09-03"))
  }

  static func cutoff(_ text: String?) -> SameDayCutoff? {
    text.map {
      let parts = $0.split(separator: ":").map { Int($0)! }
      return SameDayCutoff(minutes: parts[0] * 60 + parts[1], source: "golden table")
    }
  }

  @Test(
    "postal legs: J + n working days by route class, doubled with an appointment slip",
    arguments: golden.postal
  )
  func postal(_ c: PostalCase) throws {
    let deadline = Self.calculator.postalLeg(
      j: Self.date(c.j),
      route: RouteClass(rawValue: c.route),
      appointmentSlip: c.slip
    )
    #expect(deadline.due == Self.date(c.due))
    #expect(deadline.provisional == (c.j.hasPrefix("2027") || c.due.hasPrefix("2027")))
    #expect(deadline.rule.contains("TT 17/2017"))
    // The command a person runs says the same.
    var arguments = ["--start", "\(c.j)T10:00:00+07:00", "--route-class", c.route]
    if c.slip { arguments.append("--appointment-slip") }
    let (command, _) = try SLACommand.Due.parse(arguments).compute()
    #expect(command.due == deadline.due)
  }

  @Test(
    "agency processing: n working days from the day after the filing, a cut-off only where the procedure has one",
    arguments: golden.agency
  )
  func agency(_ c: AgencyCase) throws {
    let deadline = Self.calculator.agencyProcessing(
      filedAt: Self.instant(c.filed),
      workingDays: c.workingDays,
      cutoff: Self.cutoff(c.cutoff)
    )
    #expect(deadline.due == Self.date(c.due))
    #expect(deadline.provisional == c.due.hasPrefix("2027"))
    #expect(deadline.rule.contains("QĐ 45/2016/QĐ-TTg art. 7.4"))
    var arguments = ["--start", c.filed, "--working-days", String(c.workingDays)]
    if let cutoff = c.cutoff { arguments += ["--same-day-cutoff", cutoff] }
    let (command, _) = try SLACommand.Due.parse(arguments).compute()
    #expect(command.due == deadline.due)
    #expect(
      command.steps
        == deadline.steps.map {
          $0.replacingOccurrences(
            of: "golden table",
            with: "the procedure's sector law (given with --same-day-cutoff)"
          )
        }
    )
  }

  @Test("route classes come from the two ends on the map in force", arguments: golden.routes)
  func route(_ c: RouteCase) throws {
    func place(_ end: RouteCase.End) throws -> Place {
      Place(
        province: try ProvinceCode(validating: end.province),
        commune: try CommuneCode(validating: end.commune)
      )
    }
    let (route, why) = Self.policy.routeClass(
      from: try place(c.from),
      to: try place(c.to),
      map: Self.map
    )
    #expect(route.rawValue == c.class, "\(why)")
    #expect(why.contains(Self.map.version))
    let (command, _) = try SLACommand.Due.parse([
      "--start", "2026-03-02T10:00:00+07:00", "--from", c.from.text, "--to", c.to.text,
    ]).compute()
    #expect(
      command.due
        == Self.calculator.postalLeg(
          j: Self.date("2026-03-02"),
          route: route,
          appointmentSlip: false
        ).due
    )
    #expect(command.steps.first == why)
  }

  /// A shipment filed with the agency, with the case's events after registration.
  static func shipment(_ c: DossierCase) throws -> Shipment {
    let office = try PostOfficeCode(validating: "250000")
    var events = [
      ShipmentEvent(
        sequence: 1,
        kind: .registered,
        fromState: nil,
        toState: .requested,
        occurredAt: Timestamp(
          microseconds: Self.instant(c.events[0].at).microseconds - 3_600_000_000
        ),
        recordedAt: Self.instant(c.events[0].at),
        actor: "golden",
        location: office,
        note: nil
      )
    ]
    for (index, event) in c.events.enumerated() {
      let kind = try #require(EventKind(rawValue: event.kind))
      let at = Self.instant(event.at)
      let details: EventDetails? =
        switch kind {
        case .agencyAccepted:
          .agencyDecision(
            AgencyDecision(
              handoffID: "h1",
              channel: .push,
              outcome: .accepted(
                AgencyAcceptance(
                  dossierCode: try DossierCode(validating: "000.00.00.H55-250303-0001"),
                  receivedAt: at,
                  appointmentDate: event.appointment.map(Self.date)
                )
              )
            )
          )
        case .appointmentReceived: event.appointment.map { .appointment(Self.date($0)) }
        case .processingExtended:
          .processingExtension(
            ProcessingExtension(
              previousDueDate: Self.date(c.expect.due),
              newDueDate: Self.date(event.newDue!),
              reason: "golden",
              apology: "golden"
            )
          )
        default: nil
        }
      events.append(
        ShipmentEvent(
          sequence: index + 2,
          kind: kind,
          fromState: nil,
          toState: .awaitingResult,
          occurredAt: at,
          recordedAt: at,
          actor: "golden",
          location: office,
          note: nil,
          details: details
        )
      )
    }
    return Shipment(
      trackingNumber: try TrackingNumber(validating: "EA000000005VN"),
      serviceType: .dossierAndResult,
      state: .awaitingResult,
      applicant: Applicant(
        name: try PersonName(validating: "Nguyễn Văn An"),
        citizenID: try CitizenID(validating: "087084000999", currentYear: 2026),
        phone: try MobileNumber(validating: "0912345678"),
        address: Address(
          province: try ProvinceCode(validating: "19"),
          commune: try CommuneCode(validating: "05443"),
          detail: try BoundedText(validating: "Số 1", maximumLength: 200, required: true)
        )
      ),
      procedure: try ProcedureCode(validating: "1.000001"),
      destinationAgency: try AgencyCode(validating: "000.00.00.H55"),
      pickup: .counter(office),
      createdAt: events[0].occurredAt,
      updatedAt: events[events.count - 1].occurredAt,
      version: events.count,
      events: events
    )
  }

  @Test(
    "a dossier's agency clock: filing, supplements, extension and appointment",
    arguments: golden.dossiers
  )
  func dossier(_ c: DossierCase) throws {
    let procedure = Procedure(
      code: try ProcedureCode(validating: "1.000001"),
      name: "golden",
      competence: [
        Competence(
          level: .province,
          authority: "golden",
          agencies: [try AgencyCode(validating: "000.00.00.H55")],
          source: "golden"
        )
      ],
      documents: [],
      processingWorkingDays: c.workingDays,
      feeVND: 0,
      postalEligible: true,
      inPersonOnly: false,
      sameDay: c.workingDays == 0,
      sameDayCutoff: Self.cutoff(c.cutoff)
    )
    let inputs = SlaInputs(
      calendar: Self.calendar,
      policy: Self.policy,
      catalog: try ProcedureCatalog(
        version: "golden",
        contentHash: "",
        agencies: [
          AgencyListing(
            code: try AgencyCode(validating: "000.00.00.H55"),
            name: "golden",
            level: .province
          )
        ],
        procedures: [procedure]
      ),
      map: Self.map
    )
    let hop = try #require(
      inputs.hops(of: try Self.shipment(c)).first { $0.hop == .agencyProcessing }
    )
    let e = c.expect
    #expect(hop.due == Self.date(e.due), "\(hop.steps.joined(separator: "\n"))")
    #expect(hop.verdict?.rawValue == e.verdict)
    #expect(hop.stoppedBy?.rawValue == e.stoppedBy)
    if e.running == true { #expect(hop.isRunning) }
    if let countedFrom = e.countedFrom { #expect(hop.countedFrom == Self.date(countedFrom)) }
    #expect(hop.appointmentDate == e.appointment.map(Self.date))
    #expect(hop.appointmentLaterThanLaw == (e.appointmentLaterThanLaw ?? false))
    #expect(hop.extendedTo == e.extendedTo.map(Self.date))
    #expect(hop.lateWithApology == (e.lateWithApology ?? false))
    #expect(hop.lateSupplementRequests == (e.lateSupplementRequests ?? 0))
  }

  @Test("the Tết labels in the calendar files name the lunar day they fall on")
  func lunarLabels() throws {
    let chap = /\((\d+) tháng Chạp/
    let mung = /\(mùng (\d+)\)/
    for year in [2025, 2026, 2027] {
      for day in Self.calendar.year(year).daysOff where day.name.hasPrefix("Tết Nguyên đán") {
        let tet = LunarCalendar.tet(year)
        if day.name.contains("last day of the lunar year") {
          #expect(day.date == tet.adding(days: -1), "\(day.date) \(day.name)")
        } else if let match = day.name.firstMatch(of: mung) {
          #expect(day.date == tet.adding(days: Int(match.1)! - 1), "\(day.date) \(day.name)")
        } else if let match = day.name.firstMatch(of: chap) {
          let twelfth = try #require(LunarCalendar.solarDate(day: 1, month: 12, year: year - 1))
          #expect(day.date == twelfth.adding(days: Int(match.1)! - 1), "\(day.date) \(day.name)")
        } else {
          Issue.record("\(day.date): no lunar day in \(day.name)")
        }
      }
    }
  }

  @Test("one extension, at least one working day before the due date; a second is refused")
  func extensions() throws {
    let c = Self.calculator
    let due = Self.date("2025-03-17")
    try c.checkExtension(
      requestedOn: Self.date("2025-03-14"),
      currentDue: due,
      newDue: Self.date("2025-03-24"),
      extensionsSoFar: 0
    )
    #expect(throws: TrackingError.self) {
      try c.checkExtension(
        requestedOn: due,
        currentDue: due,
        newDue: Self.date("2025-03-24"),
        extensionsSoFar: 0
      )
    }
    #expect(throws: TrackingError.self) {
      try c.checkExtension(
        requestedOn: Self.date("2025-03-10"),
        currentDue: due,
        newDue: Self.date("2025-03-24"),
        extensionsSoFar: 1
      )
    }
    #expect(throws: TrackingError.self) {
      try c.checkExtension(
        requestedOn: Self.date("2025-03-10"),
        currentDue: due,
        newDue: due,
        extensionsSoFar: 0
      )
    }
  }

  @Test("Tết and Hùng Kings from the UTC+7 lunar calendar")
  func lunarDates() {
    #expect(LunarCalendar.tet(2024) == Self.date("2024-02-10"))
    #expect(LunarCalendar.tet(2025) == Self.date("2025-01-29"))
    #expect(LunarCalendar.tet(2026) == Self.date("2026-02-17"))
    #expect(LunarCalendar.tet(2027) == Self.date("2027-02-06"))
    #expect(LunarCalendar.hungKings(2024) == Self.date("2024-04-18"))
    #expect(LunarCalendar.hungKings(2025) == Self.date("2025-04-07"))
    #expect(LunarCalendar.hungKings(2026) == Self.date("2026-04-26"))
    // 1985: computed for UTC+7 the leap month falls differently, and Vietnam kept Tết on 21/01
    // while China (UTC+8) kept it on 20/02.
    #expect(LunarCalendar.tet(1985) == Self.date("1985-01-21"))
  }

  @Test("the published files agree with the lunar calendar, and 2027 is marked provisional")
  func filesAgreeWithTheRules() {
    let calendar = Self.calculator.calendar
    for year in [2025, 2026] {
      let data = calendar.year(year)
      #expect(!data.provisional)
      let off = Set(data.daysOff.map(\.date))
      #expect(off.contains(LunarCalendar.tet(year)) || LunarCalendar.tet(year).isoWeekday >= 6)
      #expect(off.contains(LunarCalendar.hungKings(year)))
      #expect(data.daysOff.allSatisfy { !$0.source.isEmpty })
    }
    let y2027 = calendar.year(2027)
    #expect(y2027.provisional)
    #expect(
      Set(y2027.daysOff.map(\.date)) == Set(CalendarYear.provisional(2027).daysOff.map(\.date))
    )
    #expect(calendar.year(2031).provisional)
    #expect(calendar.year(2031).version == "vn-statutory-2031")
  }
}
