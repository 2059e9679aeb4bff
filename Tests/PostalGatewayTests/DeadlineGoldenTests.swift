import Foundation
import Testing
import Tracking

@testable import PostalGateway

/// Due dates against the bundled 2025–2027 calendars, worked out by hand from the schedules
/// (Tết 25/01–02/02/2025 and 14/02–22/02/2026, the working Saturdays 26/04/2025 and 10/01/2026,
/// the compensatory Monday 27/04/2026, 2027 from the statutory rules).
@Suite("Deadlines in Vietnamese working time: golden table")
struct DeadlineGoldenTests {
  static let calculator: DeadlineCalculator = {
    // The bundled files are part of the package; a failure here is a build problem.
    let calendar = try! CalendarFiles.load(directory: try! GatewayDomain.bundledCalendars())
    return DeadlineCalculator(calendar: calendar)
  }()

  static func date(_ iso: String) -> CivilDate { try! CivilDate(iso: iso) }

  static func instant(_ iso: String) -> Timestamp {
    let date = ISO8601DateFormatter().date(from: iso)!
    return Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
  }

  struct PostalCase: Sendable, CustomTestStringConvertible {
    var j: String
    var route: RouteClass
    var slip: Bool
    var due: String
    var why: String
    var testDescription: String {
      "J=\(j) \(route.rawValue)\(slip ? "+slip" : "") → \(due): \(why)"
    }
  }

  static let postalCases: [PostalCase] = [
    .init(
      j: "2025-01-24",
      route: .withinProvince,
      slip: false,
      due: "2025-02-04",
      why: "domain.md worked example across Tết 2025"
    ),
    .init(
      j: "2025-01-24",
      route: .withinCommune,
      slip: false,
      due: "2025-02-03",
      why: "first day after Tết 2025"
    ),
    .init(
      j: "2025-01-24",
      route: .betweenMajorCities,
      slip: false,
      due: "2025-02-05",
      why: "Tết 2025"
    ),
    .init(j: "2025-01-24", route: .interProvince, slip: false, due: "2025-02-06", why: "Tết 2025"),
    .init(
      j: "2025-01-24",
      route: .withinCommune,
      slip: true,
      due: "2025-02-04",
      why: "slip doubles 1 to 2"
    ),
    .init(
      j: "2025-01-24",
      route: .withinProvince,
      slip: true,
      due: "2025-02-06",
      why: "slip doubles 2 to 4"
    ),
    .init(
      j: "2025-01-24",
      route: .betweenMajorCities,
      slip: true,
      due: "2025-02-10",
      why: "slip doubles 3 to 6 over a weekend"
    ),
    .init(
      j: "2025-01-24",
      route: .interProvince,
      slip: true,
      due: "2025-02-12",
      why: "slip doubles 4 to 8"
    ),
    .init(
      j: "2025-01-23",
      route: .withinCommune,
      slip: false,
      due: "2025-01-24",
      why: "the last working day before Tết"
    ),
    .init(
      j: "2025-01-23",
      route: .withinProvince,
      slip: false,
      due: "2025-02-03",
      why: "straddles Tết 2025"
    ),
    .init(
      j: "2025-04-04",
      route: .withinCommune,
      slip: false,
      due: "2025-04-08",
      why: "Hùng Kings Monday 07/04/2025"
    ),
    .init(
      j: "2025-04-04",
      route: .withinProvince,
      slip: false,
      due: "2025-04-09",
      why: "Hùng Kings 2025"
    ),
    .init(
      j: "2025-04-25",
      route: .withinCommune,
      slip: false,
      due: "2025-04-26",
      why: "make-up working Saturday 26/04/2025"
    ),
    .init(
      j: "2025-04-25",
      route: .withinProvince,
      slip: false,
      due: "2025-04-28",
      why: "make-up Saturday then Monday"
    ),
    .init(
      j: "2025-04-28",
      route: .interProvince,
      slip: false,
      due: "2025-05-07",
      why: "30/4, 1/5 and the swapped 2/5/2025"
    ),
    .init(
      j: "2025-04-29",
      route: .withinCommune,
      slip: false,
      due: "2025-05-05",
      why: "30/4–4/5/2025 off"
    ),
    .init(
      j: "2025-08-29",
      route: .withinProvince,
      slip: false,
      due: "2025-09-04",
      why: "2/9/2025 and its adjacent Monday"
    ),
    .init(j: "2025-08-29", route: .withinCommune, slip: false, due: "2025-09-03", why: "2/9/2025"),
    .init(
      j: "2025-12-31",
      route: .withinCommune,
      slip: false,
      due: "2026-01-05",
      why: "1/1 and the swapped 2/1/2026"
    ),
    .init(
      j: "2026-01-09",
      route: .withinCommune,
      slip: false,
      due: "2026-01-10",
      why: "make-up working Saturday 10/01/2026"
    ),
    .init(
      j: "2026-01-09",
      route: .withinProvince,
      slip: false,
      due: "2026-01-12",
      why: "make-up Saturday then Monday"
    ),
    .init(j: "2026-02-13", route: .withinCommune, slip: false, due: "2026-02-23", why: "Tết 2026"),
    .init(j: "2026-02-13", route: .interProvince, slip: false, due: "2026-02-26", why: "Tết 2026"),
    .init(
      j: "2026-02-12",
      route: .withinProvince,
      slip: false,
      due: "2026-02-23",
      why: "straddles Tết 2026"
    ),
    .init(
      j: "2026-04-24",
      route: .withinCommune,
      slip: false,
      due: "2026-04-28",
      why: "compensatory Monday 27/04/2026"
    ),
    .init(
      j: "2026-04-24",
      route: .withinProvince,
      slip: true,
      due: "2026-05-05",
      why: "compensatory Monday, 30/4 and 1/5/2026"
    ),
    .init(
      j: "2026-08-31",
      route: .withinCommune,
      slip: false,
      due: "2026-09-03",
      why: "1/9 and 2/9/2026"
    ),
    .init(
      j: "2027-02-04",
      route: .withinCommune,
      slip: false,
      due: "2027-02-12",
      why: "Tết 2027 (provisional) with two compensatory days"
    ),
    .init(
      j: "2027-02-04",
      route: .withinProvince,
      slip: false,
      due: "2027-02-15",
      why: "Tết 2027 (provisional)"
    ),
  ]

  @Test(
    "postal legs: J + n working days by route class, doubled with an appointment slip",
    arguments: postalCases
  )
  func postal(_ c: PostalCase) {
    let deadline = Self.calculator.postalLeg(
      j: Self.date(c.j),
      route: c.route,
      appointmentSlip: c.slip
    )
    #expect(deadline.due == Self.date(c.due))
    #expect(deadline.provisional == (c.j.hasPrefix("2027") || c.due.hasPrefix("2027")))
  }

  struct AgencyCase: Sendable, CustomTestStringConvertible {
    var filed: String
    var days: Int
    var due: String
    var why: String
    var testDescription: String { "filed \(filed) + \(days) → \(due): \(why)" }
  }

  static let agencyCases: [AgencyCase] = [
    .init(filed: "2025-03-10T10:00:00+07:00", days: 5, due: "2025-03-17", why: "an ordinary week"),
    .init(
      filed: "2025-03-10T15:30:00+07:00",
      days: 5,
      due: "2025-03-18",
      why: "after the 15:00 cut-off"
    ),
    .init(
      filed: "2025-03-10T14:59:00+07:00",
      days: 1,
      due: "2025-03-11",
      why: "just before the cut-off"
    ),
    .init(filed: "2025-03-10T15:00:00+07:00", days: 1, due: "2025-03-12", why: "at the cut-off"),
    .init(
      filed: "2025-03-10T07:59:00Z",
      days: 1,
      due: "2025-03-11",
      why: "14:59 in Vietnam written in UTC"
    ),
    .init(
      filed: "2025-01-24T16:00:00+07:00",
      days: 1,
      due: "2025-02-04",
      why: "after the cut-off on the eve of Tết 2025"
    ),
    .init(
      filed: "2025-01-25T09:00:00+07:00",
      days: 1,
      due: "2025-02-04",
      why: "filed on a Tết day counts from 03/02"
    ),
    .init(
      filed: "2025-04-26T09:00:00+07:00",
      days: 1,
      due: "2025-04-28",
      why: "filed on the make-up working Saturday"
    ),
    .init(
      filed: "2025-04-26T16:00:00+07:00",
      days: 1,
      due: "2025-04-29",
      why: "after the cut-off on the make-up Saturday"
    ),
    .init(
      filed: "2026-02-13T10:00:00+07:00",
      days: 10,
      due: "2026-03-06",
      why: "10 working days across Tết 2026"
    ),
    .init(
      filed: "2025-12-31T15:10:00+07:00",
      days: 3,
      due: "2026-01-08",
      why: "after the cut-off before the new year"
    ),
    .init(
      filed: "2026-04-24T09:00:00+07:00",
      days: 3,
      due: "2026-05-04",
      why: "compensatory Monday, 30/4, 1/5"
    ),
    .init(
      filed: "2025-03-12T16:30:00+07:00",
      days: 10,
      due: "2025-03-27",
      why: "supplement completed after 15:00: the clock restarts the next working day"
    ),
  ]

  @Test(
    "agency processing: n working days from the filing day, with the 15:00 cut-off",
    arguments: agencyCases
  )
  func agency(_ c: AgencyCase) {
    let deadline = Self.calculator.agencyProcessing(
      filedAt: Self.instant(c.filed),
      workingDays: c.days
    )
    #expect(deadline.due == Self.date(c.due))
    #expect(!deadline.provisional)
    #expect(deadline.calendarVersions.allSatisfy { $0.hasPrefix("vn-state-") })
  }

  @Test("a supplement restarts the clock from zero (NĐ 61 art. 19.4)")
  func supplementRestart() {
    let first = Self.calculator.agencyProcessing(
      filedAt: Self.instant("2025-03-03T09:00:00+07:00"),
      workingDays: 10
    )
    #expect(first.due == Self.date("2025-03-17"))
    let restarted = Self.calculator.agencyProcessing(
      filedAt: Self.instant("2025-03-12T16:30:00+07:00"),
      workingDays: 10
    )
    #expect(restarted.due == Self.date("2025-03-27"))
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
