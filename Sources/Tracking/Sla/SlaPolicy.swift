import Synchronization

/// The sessions of a state office's working day, in minutes after midnight, Vietnam time
/// (default 07:30–11:30 and 13:30–17:00).
public struct OfficeHours: Hashable, Sendable {
  /// One session: `start` inclusive, `end` exclusive, minutes after midnight.
  public struct Session: Hashable, Sendable {
    /// When it opens.
    public var start: Int
    /// When it closes.
    public var end: Int

    /// Creates a session.
    public init(start: Int, end: Int) {
      self.start = start
      self.end = end
    }
  }

  /// The sessions, in order, not overlapping.
  public let sessions: [Session]

  /// Creates office hours.
  /// - Throws: ``InvalidValue`` unless the sessions are non-empty, in order, inside one day.
  public init(_ sessions: [Session]) throws {
    guard !sessions.isEmpty else { throw InvalidValue("needs at least one session") }
    var previousEnd = 0
    for session in sessions {
      guard session.start >= previousEnd, session.start < session.end, session.end <= 1440 else {
        throw InvalidValue("sessions must be in order, not overlap and end by 24:00")
      }
      previousEnd = session.end
    }
    self.sessions = sessions
  }

  /// 07:30–11:30 and 13:30–17:00.
  public static let standard = try! OfficeHours([
    Session(start: 450, end: 690), Session(start: 810, end: 1020),
  ])

  /// The working minutes of one working day.
  public var minutesPerDay: Int { self.sessions.reduce(0) { $0 + $1.end - $1.start } }

  /// The working minutes of a day that fall before `minute` (minutes after midnight).
  func minutes(before minute: Int) -> Int {
    self.sessions.reduce(0) { $0 + max(0, min(minute, $1.end) - $1.start) }
  }

  /// The working minutes between two instants.
  public func workingMinutes(
    from start: Timestamp,
    to end: Timestamp,
    calendar: VietnamCalendar
  ) -> Int {
    guard start < end else { return 0 }
    let (firstDay, firstMinute) = start.vietnamDayAndMinutes
    let (lastDay, lastMinute) = end.vietnamDayAndMinutes
    var total = 0
    var day = firstDay
    while day <= lastDay {
      if calendar.isWorkingDay(day) {
        let from = day == firstDay ? self.minutes(before: firstMinute) : 0
        let to = day == lastDay ? self.minutes(before: lastMinute) : self.minutesPerDay
        total += to - from
      }
      day = day.adding(days: 1)
    }
    return total
  }

  /// The instant when `minutes` working minutes have passed, counting from the start of `day`.
  public func instant(
    afterWorkingMinutes minutes: Int,
    countingFrom day: CivilDate,
    calendar: VietnamCalendar
  ) -> Timestamp {
    var left = max(0, minutes)
    var day = day
    while true {
      if calendar.isWorkingDay(day) {
        for session in self.sessions {
          let length = session.end - session.start
          if left <= length {
            return .startOfVietnamDay(day).advanced(by: .seconds(60 * (session.start + left)))
          }
          left -= length
        }
      }
      day = day.adding(days: 1)
    }
  }
}

extension Timestamp {
  /// Midnight at the start of a Vietnamese calendar day (00:00 +07:00).
  public static func startOfVietnamDay(_ day: CivilDate) -> Timestamp {
    Timestamp(microseconds: (day.daysSinceEpoch * 86_400 - 7 * 3600) * 1_000_000)
  }
}

/// Where a leg starts or ends, for the route-class rule: a province and, when known, a commune.
public struct Place: Hashable, Sendable, CustomStringConvertible {
  /// The province.
  public var province: ProvinceCode
  /// The commune or ward, if known.
  public var commune: CommuneCode?

  /// Creates a place.
  public init(province: ProvinceCode, commune: CommuneCode?) {
    self.province = province
    self.commune = commune
  }

  public var description: String {
    "province \(self.province)" + (self.commune.map { ", commune \($0)" } ?? "")
  }
}

/// One line of the route-class rule: the first line whose condition holds gives the class.
public struct RouteRule: Hashable, Sendable {
  /// When the line applies.
  public enum Condition: Hashable, Sendable {
    /// Both ends in the same commune.
    case sameCommune
    /// Both ends in the same province.
    case sameProvince
    /// Both ends in provinces of this set.
    case bothProvincesIn(Set<ProvinceCode>)
    /// Both ends in the policy's special-class or class-I urban areas (``UrbanArea``): wards
    /// of the listed cities on the administrative map.
    case bothInUrbanAreas
    /// Always.
    case any
  }

  /// When it applies.
  public var condition: Condition
  /// The class it gives.
  public var routeClass: RouteClass

  /// Creates a line.
  public init(_ condition: Condition, _ routeClass: RouteClass) {
    self.condition = condition
    self.routeClass = routeClass
  }

  func holds(
    from origin: Place,
    to destination: Place,
    urbanAreas: [UrbanArea],
    map: AdministrativeMap?
  ) -> Bool {
    switch self.condition {
    case .sameCommune:
      return origin.province == destination.province && origin.commune != nil
        && origin.commune == destination.commune
    case .sameProvince: return origin.province == destination.province
    case .bothProvincesIn(let set):
      return set.contains(origin.province) && set.contains(destination.province)
    case .bothInUrbanAreas:
      func urban(_ place: Place) -> Bool {
        guard let commune = place.commune, let unit = map?.unit(commune), unit.level == .ward
        else { return false }
        return urbanAreas.contains { $0.province == unit.province }
      }
      return urban(origin) && urban(destination)
    case .any: return true
    }
  }

  var text: String {
    switch self.condition {
    case .sameCommune: "same commune"
    case .sameProvince: "same province"
    case .bothProvincesIn(let set):
      "both provinces in {\(set.map(\.rawValue).sorted().joined(separator: ", "))}"
    case .bothInUrbanAreas: "both ends are wards of special-class or class-I urban areas"
    case .any: "any other route"
    }
  }
}

/// A special-class or class-I urban area for the route-class rule (TT 17/2017 art. 7.2's
/// "giữa các đô thị loại đặc biệt, loại I"): the wards of a city on the administrative map.
public struct UrbanArea: Hashable, Sendable {
  /// Its name.
  public var name: String
  /// `SPECIAL` or `I`.
  public var urbanClass: String
  /// The province or centrally-run city whose wards it is.
  public var province: ProvinceCode
  /// The decision that classifies it.
  public var source: String

  /// Creates an area.
  public init(name: String, urbanClass: String, province: ProvinceCode, source: String) {
    self.name = name
    self.urbanClass = urbanClass
    self.province = province
    self.source = source
  }
}

/// The service-level policy, as versioned data: the postal legs' allowances by route class,
/// the rule that derives a route class from a leg's two ends, where the agencies and post
/// offices are, the urban areas, office hours and the at-risk share. (The 15:00 rule of NĐ 61
/// art. 18 says when a counter must pass a paper dossier on; it does not start the agency's
/// clock, so it is not here: a sector law's same-day cut-off is a procedure's attribute.)
public struct SlaPolicy: Hashable, Sendable {
  /// The postal legs' allowances (carries the policy's version).
  public var postal: PostalLegPolicy
  /// The route-class rule, first match wins; the last line should be `.any`.
  public var routeRules: [RouteRule]
  /// Where agencies and post offices are, by code (`AgencyCode` or `PostOfficeCode` text).
  public var places: [String: Place]
  /// The special-class and class-I urban areas.
  public var urbanAreas: [UrbanArea]
  /// The class of a leg one of whose ends is not known: only records from before places were
  /// checked at registration; the explanation says so.
  public var unknownPlaceClass: RouteClass
  /// Office hours, for the at-risk instant and working-time durations.
  public var officeHours: OfficeHours
  /// The share of a hop's working time after which it is at risk (default 0.8).
  public var atRiskShare: Double
  /// Communes the province classes as remote (vùng sâu, vùng xa), with the decision that lists
  /// them: the 800-dossier productivity target applies to their post offices.
  public var remoteCommunes: RemoteCommunes
  /// The Decision 766 groups and weights the oversight scores use.
  public var decision766: Decision766

  /// Creates a policy.
  public init(
    postal: PostalLegPolicy,
    routeRules: [RouteRule],
    places: [String: Place],
    urbanAreas: [UrbanArea] = [],
    unknownPlaceClass: RouteClass = .interProvince,
    officeHours: OfficeHours = .standard,
    atRiskShare: Double = 0.8,
    remoteCommunes: RemoteCommunes = RemoteCommunes(),
    decision766: Decision766 = Decision766()
  ) {
    self.postal = postal
    self.routeRules = routeRules
    self.places = places
    self.urbanAreas = urbanAreas
    self.unknownPlaceClass = unknownPlaceClass
    self.officeHours = officeHours
    self.atRiskShare = atRiskShare
    self.remoteCommunes = remoteCommunes
    self.decision766 = decision766
  }

  /// The policy's version, recorded with every postal deadline.
  public var version: String { self.postal.version }

  /// TT 17/2017 art. 7.2 with the two-level reading and no known places.
  public static let circular17 = SlaPolicy(
    postal: .circular17,
    routeRules: [
      RouteRule(.sameCommune, .withinCommune),
      RouteRule(.sameProvince, .withinProvince),
      RouteRule(.bothInUrbanAreas, .betweenMajorCities),
      RouteRule(.any, .interProvince),
    ],
    places: [:]
  )

  /// The route class of a leg, and why.
  /// - Parameter map: The administrative map (for the urban-area rule).
  public func routeClass(
    from origin: Place?,
    to destination: Place?,
    map: AdministrativeMap? = nil
  ) -> (RouteClass, String) {
    guard let origin, let destination else {
      return (
        self.unknownPlaceClass,
        "route \(self.unknownPlaceClass): UNKNOWN PLACE — an end of the leg has no place in policy \(self.version) (a record from before places were checked at registration); counted as the longest class"
      )
    }
    for rule in self.routeRules
    where rule.holds(from: origin, to: destination, urbanAreas: self.urbanAreas, map: map) {
      return (
        rule.routeClass,
        "route \(rule.routeClass): \(origin) → \(destination), \(rule.text) (policy \(self.version)\(map.map { ", map \($0.version)" } ?? ""))"
      )
    }
    return (self.unknownPlaceClass, "route \(self.unknownPlaceClass): no rule matched")
  }
}

/// The policy in force; replaced on reload.
public final class SlaPolicyHolder: Sendable {
  private let policy: Mutex<SlaPolicy>

  /// Starts with a policy.
  public init(_ policy: SlaPolicy) { self.policy = Mutex(policy) }

  /// The policy in force.
  public var current: SlaPolicy { self.policy.withLock { $0 } }

  /// Puts a new version in force.
  public func replace(with policy: SlaPolicy) { self.policy.withLock { $0 = policy } }
}

/// Communes classed as remote, with the legal source of the list (none by default: the lists
/// drawn up after the 1/7/2025 reorganisation of communes are not in this repository).
public struct RemoteCommunes: Hashable, Sendable {
  /// The communes.
  public var communes: Set<CommuneCode>
  /// The decision that lists them (required when the list is not empty).
  public var source: String?

  /// Creates a list.
  public init(_ communes: Set<CommuneCode> = [], source: String? = nil) {
    self.communes = communes
    self.source = source
  }
}
