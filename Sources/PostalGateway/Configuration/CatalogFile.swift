import Crypto
import Foundation
import Tracking

/// The procedure catalog file: JSON with a version and the procedures (see
/// `Sources/PostalGateway/Resources/thai-nguyen-h55.catalog.json`).
enum CatalogFile {
  private struct File: Decodable {
    struct Document: Decodable {
      var id: String
      var name: String
      var form: String
      var quantity: Int
      /// `true`: its absence never makes the dossier incomplete.
      var optional: Bool?
      /// Any one document of the same group satisfies it.
      var oneOf: String?
    }
    /// `{ "perCopyVND": 8000, … }` or `{ "perPage": { "document": …, "firstPages": 2,
    /// "firstVND": 2000, "laterVND": 1000, "capVND": 200000 }, … }`, with `description` and
    /// `source`.
    struct Fee: Decodable {
      struct PerPage: Decodable {
        var document: String
        var firstPages: Int
        var firstVND: Int64
        var laterVND: Int64
        var capVND: Int64?
      }
      var description: String
      var source: String
      var perCopyVND: Int64?
      var perPage: PerPage?
    }
    /// `{ "code": "000.00.00.H55", "name": "…", "level": "PROVINCE" }`, and for a
    /// commune-level agency the commune it serves: `"commune": "05443"`.
    struct Agency: Decodable {
      var code: String
      var name: String
      var level: String
      var commune: String?
    }
    /// `{ "level": "COMMUNE", "authority": "Chủ tịch UBND cấp xã", "agencies": [ … ],
    /// "source": "…" }`.
    struct Level: Decodable {
      var level: String
      var authority: String
      var agencies: [String]
      var source: String
    }
    struct Procedure: Decodable {
      var code: String
      var name: String
      /// The format before levels: refused with a message saying what replaced it.
      var agencies: [String]?
      var levels: [Level]?
      var documents: [Document]
      var processingWorkingDays: Int
      var feeVND: Int64
      var feeRules: [Fee]?
      var postalEligible: Bool
      var inPersonOnly: Bool
      var sameDay: Bool
      /// A sector law's same-day cut-off: `{ "time": "15:00", "source": "…" }`.
      var sameDayCutoff: Rule?
      /// A supplement window other than NĐ 61's 3 working days: `{ "workingDays": 5, "source": … }`.
      var supplementWindow: Window?
    }
    struct Rule: Decodable {
      var time: String
      var source: String
    }
    struct Window: Decodable {
      var workingDays: Int
      var source: String
    }
    /// `{ "version": …, "source": …, "rates": { "DOSSIER_AND_RESULT": { "WITHIN_COMMUNE":
    /// 25000, … }, … } }`.
    struct Postage: Decodable {
      var version: String
      var source: String
      var rates: [String: [String: Int64]]
    }
    var version: String
    var agencies: [Agency]?
    var procedures: [Procedure]
    var postage: Postage?
  }

  /// Reads and checks a catalog file.
  /// - Throws: ``ConfigurationError`` naming what is wrong.
  static func load(path: String) throws -> ProcedureCatalog {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigurationError("cannot read the procedure catalog \(path)")
    }
    do {
      return try Self.decode(data)
    } catch let error as InvalidValue {
      throw ConfigurationError("procedure catalog \(path): \(error.reason)")
    } catch {
      throw ConfigurationError(
        "procedure catalog \(path): \(FileProblem.describe(error))"
      )
    }
  }

  /// Parses and checks catalog JSON.
  static func decode(_ data: Data) throws -> ProcedureCatalog {
    let file = try JSONDecoder().decode(File.self, from: data)
    let procedures = try file.procedures.map { procedure in
      let cutoff = try procedure.sameDayCutoff.map { rule -> SameDayCutoff in
        let parts = rule.time.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0 ... 23).contains(parts[0]), (0 ... 59).contains(parts[1]),
          !rule.source.isEmpty
        else {
          throw InvalidValue(
            "procedure \(procedure.code): sameDayCutoff needs a time HH:MM and its legal source"
          )
        }
        return SameDayCutoff(minutes: parts[0] * 60 + parts[1], source: rule.source)
      }
      let window = try procedure.supplementWindow.map { window -> SupplementWindow in
        guard (0 ... 60).contains(window.workingDays), !window.source.isEmpty else {
          throw InvalidValue(
            "procedure \(procedure.code): supplementWindow needs 0–60 working days and its legal source"
          )
        }
        return SupplementWindow(workingDays: window.workingDays, source: window.source)
      }
      return Procedure(
        code: try ProcedureCode(validating: procedure.code),
        name: procedure.name,
        competence: try Self.competence(of: procedure),
        documents: try procedure.documents.map { document in
          guard let form = DocumentForm(rawValue: document.form) else {
            throw InvalidValue(
              "document \(document.id) has form \(document.form); use ORIGINAL, COPY or ANY"
            )
          }
          return Procedure.Document(
            id: document.id,
            name: document.name,
            form: form,
            quantity: document.quantity,
            requirement: try Self.requirement(of: document)
          )
        },
        processingWorkingDays: procedure.processingWorkingDays,
        feeVND: procedure.feeVND,
        feeRules: try (procedure.feeRules ?? []).map { try Self.rule($0, of: procedure.code) },
        postalEligible: procedure.postalEligible,
        inPersonOnly: procedure.inPersonOnly,
        sameDay: procedure.sameDay,
        sameDayCutoff: cutoff,
        supplementWindow: window ?? .decree61
      )
    }
    let hash = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    let postage = try file.postage.map { tariff in
      PostageTariff(
        version: tariff.version,
        source: tariff.source,
        rates: try Dictionary(
          uniqueKeysWithValues: tariff.rates.map { service, routes in
            guard let type = ServiceType(rawValue: service) else {
              throw InvalidValue("postage: unknown service type \(service)")
            }
            return (
              type,
              Dictionary(
                uniqueKeysWithValues: routes.map { (RouteClass(rawValue: $0.key), $0.value) }
              )
            )
          }
        )
      )
    }
    return try ProcedureCatalog(
      version: file.version,
      contentHash: hash,
      agencies: try Self.directory(file.agencies),
      procedures: procedures,
      postage: postage
    )
  }

  private static func directory(_ agencies: [File.Agency]?) throws -> [AgencyListing] {
    guard let agencies else {
      throw InvalidValue(
        "the catalog needs an \"agencies\" directory: each agency's code, name, level (PROVINCE or COMMUNE) and, at the commune level, the commune it serves"
      )
    }
    return try agencies.map { agency in
      guard let level = GovernmentLevel(rawValue: agency.level) else {
        throw InvalidValue(
          "agency \(agency.code) has level \(agency.level); use PROVINCE or COMMUNE"
        )
      }
      return AgencyListing(
        code: try AgencyCode(validating: agency.code),
        name: agency.name,
        level: level,
        commune: try agency.commune.map { try CommuneCode(validating: $0) }
      )
    }
  }

  private static func competence(of procedure: File.Procedure) throws -> [Competence] {
    guard procedure.agencies == nil, let levels = procedure.levels else {
      throw InvalidValue(
        "procedure \(procedure.code) needs \"levels\" (each with level, authority, agencies and source); a flat \"agencies\" list is no longer read because it cannot say at which level of government each agency decides"
      )
    }
    return try levels.map { entry in
      guard let level = GovernmentLevel(rawValue: entry.level) else {
        throw InvalidValue(
          "procedure \(procedure.code) has level \(entry.level); use PROVINCE or COMMUNE"
        )
      }
      return Competence(
        level: level,
        authority: entry.authority,
        agencies: try entry.agencies.map { try AgencyCode(validating: $0) },
        source: entry.source
      )
    }
  }

  private static func requirement(of document: File.Document) throws -> DocumentRequirement {
    switch (document.optional ?? false, document.oneOf) {
    case (false, nil): return .required
    case (true, nil): return .optional
    case (false, let group?): return .oneOf(group)
    case (true, _?):
      throw InvalidValue("document \(document.id) cannot be both optional and one of a group")
    }
  }

  private static func rule(_ fee: File.Fee, of code: String) throws -> FeeRule {
    switch (fee.perCopyVND, fee.perPage) {
    case (let unit?, nil):
      return FeeRule(
        basis: .perCopy(unitVND: unit),
        description: fee.description,
        source: fee.source
      )
    case (nil, let page?):
      return FeeRule(
        basis: .perPage(
          documentID: page.document,
          firstPages: page.firstPages,
          firstVND: page.firstVND,
          laterVND: page.laterVND,
          capVND: page.capVND
        ),
        description: fee.description,
        source: fee.source
      )
    default:
      throw InvalidValue(
        "procedure \(code): a fee rule needs exactly one of perCopyVND and perPage"
      )
    }
  }

  /// The sample catalog shipped with the service.
  static var bundledSample: Data {
    get throws {
      let path = try BundledData.path("thai-nguyen-h55.catalog.json")
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigurationError("the sample catalog \(path) is missing")
      }
      return data
    }
  }

  /// Writes the bundled sample to `path` unless a file is there.
  /// - Returns: Whether it wrote the file.
  @discardableResult
  static func installSample(at path: String) throws -> Bool {
    guard !FileManager.default.fileExists(atPath: path) else { return false }
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true
    )
    try Self.bundledSample.write(to: URL(fileURLWithPath: path), options: .atomic)
    return true
  }
}
