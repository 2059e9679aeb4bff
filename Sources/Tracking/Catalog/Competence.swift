/// A level of local government since the two-level reform of 1/7/2025 (NQ 202/2025/QH15 and the
/// amended Law on the Organisation of Local Government: province and commune; the district level
/// no longer exists).
public enum GovernmentLevel: String, Hashable, Sendable, CaseIterable {
  /// The province: its people's committee and departments, through the provincial public
  /// administrative service centre.
  case province = "PROVINCE"
  /// The commune, ward or special zone: its people's committee and its one-stop unit.
  case commune = "COMMUNE"
}

/// An agency the post hands dossiers to, as the catalog's directory lists it.
public struct AgencyListing: Hashable, Sendable {
  /// Its identifier code (QCVN 102:2016/BTTTT).
  public var code: AgencyCode
  /// Its name, in Vietnamese.
  public var name: String
  /// The level it belongs to.
  public var level: GovernmentLevel
  /// For a commune-level agency, the commune whose residents it serves.
  public var commune: CommuneCode?

  /// Creates a listing.
  public init(code: AgencyCode, name: String, level: GovernmentLevel, commune: CommuneCode? = nil) {
    self.code = code
    self.name = name
    self.level = level
    self.commune = commune
  }
}

/// Who decides a procedure at one level, and where the post hands its dossiers.
public struct Competence: Hashable, Sendable {
  /// The level.
  public var level: GovernmentLevel
  /// The authority that decides, as the law names it (e.g. "Chủ tịch UBND cấp xã").
  public var authority: String
  /// The agencies at this level that receive the dossier, in the catalog's order.
  public var agencies: [AgencyCode]
  /// The law that gives this level the procedure.
  public var source: String

  /// Creates a competence.
  public init(level: GovernmentLevel, authority: String, agencies: [AgencyCode], source: String) {
    self.level = level
    self.authority = authority
    self.agencies = agencies
    self.source = source
  }
}

/// Where a dossier goes when the counter names no agency.
public enum DefaultDestination: Hashable, Sendable {
  /// This agency.
  case agency(AgencyCode)
  /// Only commune-level agencies are competent and none serves the applicant's commune.
  case noAgencyServes(CommuneCode)
}

extension Procedure {
  /// The agency a dossier goes to when the counter names none: the levels in the catalog's
  /// order; at the province level its first agency, at the commune level the one serving the
  /// applicant's commune (competence follows residence, e.g. Luật Hộ tịch 2014 art. 13.1 for a
  /// birth), skipped when no listed agency serves it.
  /// - Parameters:
  ///   - commune: The applicant's commune.
  ///   - directory: The catalog's agencies.
  public func defaultDestination(
    forApplicantIn commune: CommuneCode,
    directory: [AgencyCode: AgencyListing]
  ) -> DefaultDestination {
    for competence in self.competence {
      switch competence.level {
      case .province:
        if let first = competence.agencies.first { return .agency(first) }
      case .commune:
        if let local = competence.agencies.first(where: { directory[$0]?.commune == commune }) {
          return .agency(local)
        }
      }
    }
    return .noAgencyServes(commune)
  }
}

extension Procedure {
  /// The agency a registration goes to: the one named, if it is competent at some level, else
  /// ``defaultDestination(forApplicantIn:directory:)``.
  /// - Throws: ``TrackingError`` `.invalidArgument` on `destination_agency_code` for an agency
  ///   that is not competent, or when none is named and no listed agency serves the commune.
  func destination(
    named agency: AgencyCode?,
    forApplicantIn commune: CommuneCode,
    directory: [AgencyCode: AgencyListing]
  ) throws -> AgencyCode {
    if let agency {
      guard self.agencies.contains(agency) else {
        throw TrackingError.invalidField(
          "destination_agency_code",
          "is not competent for procedure \(self.code), decided at level "
            + self.competence.map(\.level.rawValue).joined(separator: " or ")
        )
      }
      return agency
    }
    switch self.defaultDestination(forApplicantIn: commune, directory: directory) {
    case .agency(let agency):
      return agency
    case .noAgencyServes(let commune):
      throw TrackingError.invalidField(
        "destination_agency_code",
        "is needed: no listed agency serves commune \(commune), where procedure \(self.code) is decided"
      )
    }
  }
}
