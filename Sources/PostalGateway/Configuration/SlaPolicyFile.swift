import Crypto
import Foundation
import Tracking

/// The SLA policy file: JSON with a version, the postal allowances by route class, the
/// route-class rule, the special-class and class-I urban areas, the places of agencies and post
/// offices (each must be on the administrative map), office hours and the at-risk share (see
/// `Sources/PostalGateway/Resources/policies/sla-policy.json`).
enum SlaPolicyFile {
  private struct File: Decodable {
    struct Rule: Decodable {
      var when: String
      var provinces: [String]?
      var `class`: String
    }
    struct Place: Decodable {
      var province: String
      var commune: String?
    }
    struct Session: Decodable {
      var start: String
      var end: String
    }
    struct UrbanArea: Decodable {
      var name: String
      var `class`: String
      var province: String
      var source: String
    }
    var version: String
    var routeClasses: [String: Int]
    var routeRules: [Rule]
    var unknownPlaceClass: String?
    var urbanAreas: [UrbanArea]?
    var places: [String: Place]?
    var officeHours: [Session]?
    var intakeCutoff: String?
    var atRiskShare: Double?
    struct Remote: Decodable {
      var communes: [String]
      var source: String
    }
    var remoteCommunes: Remote?
    struct Scorecard: Decodable {
      struct Group: Decodable {
        var code: String
        var name: String
        var points: Double
        var status: String
        var measure: String?
      }
      var groups: [Group]
      var source: String
    }
    var decision766: Scorecard?
  }

  /// The bundled policy.
  static var bundledPath: String {
    get throws { try BundledData.path("policies/sla-policy.json") }
  }

  /// Reads and checks a policy file.
  /// - Throws: ``ConfigurationError`` naming the file and what is wrong.
  static func load(
    path: String,
    map: AdministrativeMap
  ) throws -> (policy: SlaPolicy, sha256: String) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigurationError("cannot read the SLA policy \(path)")
    }
    do {
      return (
        try Self.decode(data, map: map),
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
      )
    } catch let error as InvalidValue {
      throw ConfigurationError("SLA policy \(path): \(error.reason)")
    } catch let error as ConfigurationError {
      throw ConfigurationError("SLA policy \(path): \(error)")
    } catch {
      throw ConfigurationError("SLA policy \(path): \(FileProblem.describe(error))")
    }
  }

  /// Parses and checks policy JSON.
  static func decode(_ data: Data, map: AdministrativeMap) throws -> SlaPolicy {
    let file = try JSONDecoder().decode(File.self, from: data)
    guard file.intakeCutoff == nil else {
      throw InvalidValue(
        "intakeCutoff is no longer a policy setting: the 15:00 rule of NĐ 61 art. 18 does not start the agency's clock; a sector law's same-day cut-off is a procedure's sameDayCutoff in the catalog"
      )
    }
    guard !file.version.isEmpty else { throw InvalidValue("version is required") }
    guard !file.routeClasses.isEmpty,
      file.routeClasses.values.allSatisfy({ (0 ... 60).contains($0) })
    else {
      throw InvalidValue("routeClasses must give each class 0–60 working days")
    }
    func routeClass(_ name: String, _ field: String) throws -> RouteClass {
      guard file.routeClasses[name] != nil else {
        throw InvalidValue("\(field) names \(name), which is not in routeClasses")
      }
      return RouteClass(rawValue: name)
    }
    let rules = try file.routeRules.enumerated().map { index, rule in
      let condition: RouteRule.Condition
      switch rule.when {
      case "SAME_COMMUNE": condition = .sameCommune
      case "SAME_PROVINCE": condition = .sameProvince
      case "BOTH_PROVINCES_IN":
        condition = .bothProvincesIn(
          Set(try (rule.provinces ?? []).map { try ProvinceCode(validating: $0) })
        )
      case "BOTH_IN_URBAN_AREAS": condition = .bothInUrbanAreas
      case "ANY": condition = .any
      default:
        throw InvalidValue(
          "routeRules[\(index)].when must be SAME_COMMUNE, SAME_PROVINCE, BOTH_IN_URBAN_AREAS, BOTH_PROVINCES_IN or ANY"
        )
      }
      return RouteRule(condition, try routeClass(rule.class, "routeRules[\(index)].class"))
    }
    var places: [String: Tracking.Place] = [:]
    for (code, place) in (file.places ?? [:]).sorted(by: { $0.key < $1.key }) {
      do {
        let province = try ProvinceCode(validating: place.province)
        try map.checkProvince(province)
        guard let commune = place.commune else {
          throw InvalidValue("needs its commune: a route class comes from real places")
        }
        let unit = try CommuneCode(validating: commune)
        try map.checkCommune(unit, in: province)
        places[code] = Place(province: province, commune: unit)
      } catch let error as InvalidValue {
        throw InvalidValue("places[\(code)]: \(error.reason)")
      }
    }
    let urbanAreas = try (file.urbanAreas ?? []).enumerated().map { index, area in
      do {
        let province = try ProvinceCode(validating: area.province)
        try map.checkProvince(province)
        guard ["SPECIAL", "I"].contains(area.class) else {
          throw InvalidValue("class must be SPECIAL or I")
        }
        guard !area.source.isEmpty else { throw InvalidValue("needs its source") }
        return UrbanArea(
          name: area.name,
          urbanClass: area.class,
          province: province,
          source: area.source
        )
      } catch let error as InvalidValue {
        throw InvalidValue("urbanAreas[\(index)]: \(error.reason)")
      }
    }
    let hours = try OfficeHours(
      try (file.officeHours ?? []).map {
        OfficeHours.Session(start: try Self.minutes($0.start), end: try Self.minutes($0.end))
      }.nonEmpty ?? OfficeHours.standard.sessions
    )
    let share = file.atRiskShare ?? 0.8
    guard share > 0, share <= 1 else { throw InvalidValue("atRiskShare must be in (0, 1]") }
    let remote = try file.remoteCommunes.map { remote in
      guard !remote.source.isEmpty else {
        throw InvalidValue("remoteCommunes needs its source (the decision that lists them)")
      }
      return RemoteCommunes(
        Set(
          try remote.communes.map { code in
            do {
              let commune = try CommuneCode(validating: code)
              guard map.unit(commune) != nil else {
                throw InvalidValue("is not on the administrative map in force")
              }
              return commune
            } catch let error as InvalidValue {
              throw InvalidValue("remoteCommunes: \(code) \(error.reason)")
            }
          }
        ),
        source: remote.source
      )
    }
    return SlaPolicy(
      postal: PostalLegPolicy(
        version: file.version,
        workingDays: Dictionary(
          uniqueKeysWithValues: file.routeClasses.map { (RouteClass(rawValue: $0.key), $0.value) }
        )
      ),
      routeRules: rules,
      places: places,
      urbanAreas: urbanAreas,
      unknownPlaceClass: try file.unknownPlaceClass.map { try routeClass($0, "unknownPlaceClass") }
        ?? .interProvince,
      officeHours: hours,
      atRiskShare: share,
      remoteCommunes: remote ?? RemoteCommunes(),
      decision766: try file.decision766.map(Self.scorecard) ?? Decision766()
    )
  }

  /// The Decision 766 groups: each with its status (`C` confirmed, `U` unconfirmed) and what the
  /// post measures for it, the whole with its source.
  private static func scorecard(_ file: File.Scorecard) throws -> Decision766 {
    guard !file.source.isEmpty else {
      throw InvalidValue("decision766 needs its source")
    }
    return Decision766(
      groups: try file.groups.enumerated().map { index, group in
        guard group.points >= 0, ["C", "U"].contains(group.status) else {
          throw InvalidValue("decision766.groups[\(index)]: points must be ≥ 0 and status C or U")
        }
        var measure: PostalMeasure?
        if let text = group.measure {
          guard let parsed = PostalMeasure(rawValue: text) else {
            throw InvalidValue(
              "decision766.groups[\(index)].measure must be ON_TIME, DIGITIZED or SATISFACTION"
            )
          }
          measure = parsed
        }
        return ScorecardGroup(
          code: group.code,
          name: group.name,
          points: group.points,
          confirmed: group.status == "C",
          measure: measure
        )
      },
      source: file.source
    )
  }

  /// `HH:MM` as minutes after midnight.
  private static func minutes(_ text: String) throws -> Int {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
      (0 ... 24).contains(hours), (0 ... 59).contains(minutes), hours * 60 + minutes <= 1440
    else { throw InvalidValue("\(text) is not a time of day HH:MM") }
    return hours * 60 + minutes
  }
}

extension Array {
  fileprivate var nonEmpty: Self? { self.isEmpty ? nil : self }
}
