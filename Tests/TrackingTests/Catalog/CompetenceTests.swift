import Testing
import Tracking

extension AgencyListing {
  /// A province-level agency for catalogs built in tests.
  static let testProvince = AgencyListing(
    code: try! AgencyCode(validating: "000.00.00.H55"),
    name: "Trung tâm Phục vụ hành chính công",
    level: .province
  )
}

extension Competence {
  /// The province decides, through ``AgencyListing/testProvince``.
  static let testProvince = Competence(
    level: .province,
    authority: "Sở",
    agencies: [AgencyListing.testProvince.code],
    source: "test"
  )
}

@Suite("Procedures decided at the province or the commune")
struct CompetenceTests {
  static func commune(_ agency: String, serves commune: String) -> AgencyListing {
    AgencyListing(
      code: try! AgencyCode(validating: agency),
      name: "UBND \(commune)",
      level: .commune,
      commune: try! CommuneCode(validating: commune)
    )
  }

  static let phanDinhPhung = Self.commune("000.00.61.H55", serves: "05443")
  static let tichLuong = Self.commune("000.00.62.H55", serves: "05500")
  static let directory = [AgencyListing.testProvince, Self.phanDinhPhung, Self.tichLuong]

  static let communeLevel = Competence(
    level: .commune,
    authority: "UBND cấp xã nơi cư trú",
    agencies: [Self.phanDinhPhung.code, Self.tichLuong.code],
    source: "Luật Hộ tịch 2014 art. 13.1"
  )

  static func procedure(_ competence: [Competence]) -> Procedure {
    Procedure(
      code: try! ProcedureCode(validating: "1.001193"),
      name: "Đăng ký khai sinh",
      competence: competence,
      documents: [],
      processingWorkingDays: 0,
      feeVND: 0,
      postalEligible: true,
      inPersonOnly: false,
      sameDay: true
    )
  }

  static func catalog(
    _ procedure: Procedure,
    agencies: [AgencyListing] = Self.directory
  ) throws
    -> ProcedureCatalog
  {
    try ProcedureCatalog(version: "t", contentHash: "", agencies: agencies, procedures: [procedure])
  }

  @Test("a commune-level procedure goes to the agency serving the applicant's commune")
  func communeByResidence() throws {
    let catalog = try Self.catalog(Self.procedure([Self.communeLevel]))
    let procedure = try #require(catalog.all.first)
    let destination = procedure.defaultDestination(
      forApplicantIn: try CommuneCode(validating: "05500"),
      directory: catalog.directory
    )
    #expect(destination == .agency(Self.tichLuong.code))
    let elsewhere = try CommuneCode(validating: "05710")
    #expect(
      procedure.defaultDestination(forApplicantIn: elsewhere, directory: catalog.directory)
        == .noAgencyServes(elsewhere)
    )
  }

  @Test("the levels are tried in the catalog's order")
  func levelOrder() throws {
    let catalog = try Self.catalog(Self.procedure([.testProvince, Self.communeLevel]))
    let provinceFirst = try #require(catalog.all.first)
    let commune = try CommuneCode(validating: "05443")
    #expect(
      provinceFirst.defaultDestination(forApplicantIn: commune, directory: catalog.directory)
        == .agency(AgencyListing.testProvince.code)
    )
    let communeFirst = Self.procedure([Self.communeLevel, .testProvince])
    #expect(
      communeFirst.defaultDestination(forApplicantIn: commune, directory: catalog.directory)
        == .agency(Self.phanDinhPhung.code)
    )
    // No commune agency serves 05710: the province level that follows takes it.
    #expect(
      communeFirst.defaultDestination(
        forApplicantIn: try CommuneCode(validating: "05710"),
        directory: catalog.directory
      ) == .agency(AgencyListing.testProvince.code)
    )
    #expect(Set(communeFirst.agencies) == Set(Self.directory.map(\.code)))
  }

  @Test("a catalog refuses an agency it does not list or lists at another level")
  func directoryChecks() throws {
    #expect(throws: InvalidValue.self) {
      try Self.catalog(Self.procedure([Self.communeLevel]), agencies: [.testProvince])
    }
    var wrongLevel = Self.communeLevel
    wrongLevel.agencies.append(AgencyListing.testProvince.code)
    #expect(throws: InvalidValue.self) { try Self.catalog(Self.procedure([wrongLevel])) }
    var unsourced = Self.communeLevel
    unsourced.source = ""
    #expect(throws: InvalidValue.self) { try Self.catalog(Self.procedure([unsourced])) }
    #expect(throws: InvalidValue.self) {
      try Self.catalog(Self.procedure([Self.communeLevel, Self.communeLevel]))
    }
    #expect(throws: InvalidValue.self) { try Self.catalog(Self.procedure([])) }
    var nowhere = Self.tichLuong
    nowhere.commune = nil
    #expect(throws: InvalidValue.self) {
      try Self.catalog(Self.procedure([.testProvince]), agencies: [.testProvince, nowhere])
    }
    #expect(throws: InvalidValue.self) {
      try Self.catalog(
        Self.procedure([.testProvince]),
        agencies: [.testProvince, .testProvince]
      )
    }
  }
}
