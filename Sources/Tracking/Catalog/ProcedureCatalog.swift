import Synchronization

/// In what form a document must be handed over.
public enum DocumentForm: String, Hashable, Sendable, CaseIterable {
  /// The original (bản chính).
  case original = "ORIGINAL"
  /// A copy (bản sao); an original also satisfies it.
  case copy = "COPY"
  /// Either.
  case any = "ANY"

  /// Whether a paper handed over in `form` satisfies this requirement.
  /// - Parameter form: `.original` or `.copy`.
  public func isSatisfied(by form: DocumentForm) -> Bool {
    switch self {
    case .original: form == .original
    case .copy, .any: form == .original || form == .copy
    }
  }
}

/// A sector law's same-day rule: a dossier filed at or after the cut-off counts as filed on the
/// next working day (e.g. Luật Hộ tịch 2014 art. 5.3 for civil status: "nhận hồ sơ sau 15 giờ mà
/// không giải quyết được ngay thì trả kết quả trong ngày làm việc tiếp theo").
public struct SameDayCutoff: Hashable, Sendable {
  /// Minutes after midnight, Vietnam time.
  public var minutes: Int
  /// The law that sets it.
  public var source: String

  /// Creates a rule.
  public init(minutes: Int, source: String) {
    self.minutes = minutes
    self.source = source
  }
}

/// How long after the filing an agency may ask, once, for the dossier to be completed, with the
/// clock restarting when it is.
public struct SupplementWindow: Hashable, Sendable {
  /// Working days after the filing day.
  public var workingDays: Int
  /// The rule's legal source.
  public var source: String

  /// Creates a window.
  public init(workingDays: Int, source: String) {
    self.workingDays = workingDays
    self.source = source
  }

  /// The general rule: within 3 working days of receipt, once, in writing, listing everything
  /// missing (NĐ 61/2018 art. 19.4 as amended by NĐ 107/2021).
  public static let decree61 = SupplementWindow(
    workingDays: 3,
    source:
      "NĐ 61/2018/NĐ-CP art. 19.4 as amended by NĐ 107/2021/NĐ-CP (the 2018 rule: the text of NĐ 118/2025/NĐ-CP, in force since 1/7/2025 and amended by NĐ 367/2025/NĐ-CP, could not be checked)"
  )
}

/// An administrative procedure as the agency published it.
public struct Procedure: Hashable, Sendable {
  /// One item of the published document list.
  public struct Document: Hashable, Sendable {
    /// The catalog's id of the item, e.g. `TO_KHAI`.
    public var id: String
    /// Its published name.
    public var name: String
    /// Original, copy or either.
    public var form: DocumentForm
    /// How many.
    public var quantity: Int
    /// Whether it must be handed over, may be, or is one of a set of alternatives.
    public var requirement: DocumentRequirement

    /// Creates an item.
    public init(
      id: String,
      name: String,
      form: DocumentForm,
      quantity: Int,
      requirement: DocumentRequirement = .required
    ) {
      self.id = id
      self.name = name
      self.form = form
      self.quantity = quantity
      self.requirement = requirement
    }
  }

  /// The national code.
  public var code: ProcedureCode
  /// The published name.
  public var name: String
  /// Who decides it at each level and where the post hands it, in the catalog's order (see
  /// ``defaultDestination(forApplicantIn:directory:)``).
  public var competence: [Competence]
  /// The published document list.
  public var documents: [Document]
  /// The legal processing time, in working days.
  public var processingWorkingDays: Int
  /// The flat fee (phí, lệ phí) per dossier, in VND.
  public var feeVND: Int64
  /// Fees charged per copy of the result or per page, on top of ``feeVND``.
  public var feeRules: [FeeRule]
  /// Whether the agency accepts it by post (QĐ 45 art. 13).
  public var postalEligible: Bool
  /// Whether the citizen must appear in person (excluded from postal handling, QĐ 45 art. 1).
  public var inPersonOnly: Bool
  /// Whether the result is issued the same day (QĐ 45 art. 16.3).
  public var sameDay: Bool
  /// A sector law's same-day cut-off, if it has one (none by default).
  public var sameDayCutoff: SameDayCutoff?
  /// When the agency may ask for a supplement (the general rule unless a law says otherwise).
  public var supplementWindow: SupplementWindow

  /// Creates a procedure.
  public init(
    code: ProcedureCode,
    name: String,
    competence: [Competence],
    documents: [Document],
    processingWorkingDays: Int,
    feeVND: Int64,
    feeRules: [FeeRule] = [],
    postalEligible: Bool,
    inPersonOnly: Bool,
    sameDay: Bool,
    sameDayCutoff: SameDayCutoff? = nil,
    supplementWindow: SupplementWindow = .decree61
  ) {
    self.code = code
    self.name = name
    self.competence = competence
    self.documents = documents
    self.processingWorkingDays = processingWorkingDays
    self.feeVND = feeVND
    self.feeRules = feeRules
    self.postalEligible = postalEligible
    self.inPersonOnly = inPersonOnly
    self.sameDay = sameDay
    self.sameDayCutoff = sameDayCutoff
    self.supplementWindow = supplementWindow
  }

  /// Every agency that may receive it, at any level.
  public var agencies: [AgencyCode] {
    self.competence.flatMap(\.agencies)
  }

  /// The published item with this id.
  public func document(_ id: String) -> Document? {
    self.documents.first { $0.id == id }
  }

  /// What the post charges for this dossier on the agency's behalf.
  /// - Parameters:
  ///   - items: The papers handed over.
  ///   - copies: Copies of the result requested (at least 1).
  public func feeQuote(items: [HandedOverItem], copies: Int) -> FeeQuote {
    FeeQuote(flatVND: self.feeVND, rules: self.feeRules, items: items, copies: copies)
  }
}

/// One version of the procedure catalog: data, loaded from a file, never code.
public struct ProcedureCatalog: Hashable, Sendable {
  /// The version the file declares.
  public let version: String
  /// SHA-256 of the file's bytes, hex.
  public let contentHash: String
  /// The postage tariff, when the catalog carries one (postage is then checked against it).
  public let postage: PostageTariff?
  /// The agencies dossiers go to, by code.
  public let directory: [AgencyCode: AgencyListing]
  private let procedures: [ProcedureCode: Procedure]

  /// Checks and indexes a catalog.
  /// - Parameters:
  ///   - version: The declared version (non-empty).
  ///   - contentHash: The file's SHA-256.
  ///   - agencies: The directory of agencies every procedure's competence names.
  ///   - procedures: Every procedure.
  /// - Throws: ``InvalidValue`` naming the first inconsistency (duplicate code or document id,
  ///   no agency, an agency not in the directory or at another level, quantity below 1,
  ///   negative fee or time, in-person-only yet postal-eligible).
  public init(
    version: String,
    contentHash: String,
    agencies: [AgencyListing],
    procedures: [Procedure],
    postage: PostageTariff? = nil
  ) throws {
    guard !version.isEmpty else { throw InvalidValue("the catalog has no version") }
    let directory = try Self.directory(of: agencies)
    var index: [ProcedureCode: Procedure] = [:]
    for procedure in procedures {
      let code = procedure.code.rawValue
      guard index[procedure.code] == nil else {
        throw InvalidValue("procedure \(code) is listed twice")
      }
      try Self.checkCompetence(of: procedure, in: directory)
      guard procedure.feeVND >= 0, procedure.processingWorkingDays >= 0 else {
        throw InvalidValue("procedure \(code) has a negative fee or processing time")
      }
      guard !(procedure.inPersonOnly && procedure.postalEligible) else {
        throw InvalidValue("procedure \(code) cannot be both in-person-only and postal-eligible")
      }
      var ids: Set<String> = []
      for document in procedure.documents {
        guard !document.id.isEmpty, ids.insert(document.id).inserted else {
          throw InvalidValue("procedure \(code) has an empty or repeated document id")
        }
        guard document.quantity >= 1 else {
          throw InvalidValue("procedure \(code) document \(document.id) has quantity below 1")
        }
        guard document.id != Applicant.authorizationDocumentID else {
          throw InvalidValue(
            "procedure \(code) lists \(Applicant.authorizationDocumentID), which is asked for whenever an authorised person applies"
          )
        }
      }
      try Self.checkGroups(of: procedure, documentIDs: ids)
      try FeeRule.check(procedure.feeRules, of: procedure, documentIDs: ids)
      index[procedure.code] = procedure
    }
    if let postage {
      guard !postage.version.isEmpty, !postage.source.isEmpty,
        postage.rates.values.allSatisfy({ $0.values.allSatisfy { $0 >= 0 } })
      else {
        throw InvalidValue(
          "the postage tariff needs a version, its source and amounts of 0 or more"
        )
      }
    }
    self.version = version
    self.contentHash = contentHash
    self.postage = postage
    self.directory = directory
    self.procedures = index
  }

  private static func directory(of agencies: [AgencyListing]) throws -> [AgencyCode: AgencyListing]
  {
    var directory: [AgencyCode: AgencyListing] = [:]
    for agency in agencies {
      let code = agency.code.rawValue
      guard directory[agency.code] == nil else {
        throw InvalidValue("agency \(code) is listed twice")
      }
      guard !agency.name.isEmpty else { throw InvalidValue("agency \(code) has no name") }
      guard (agency.level == .commune) == (agency.commune != nil) else {
        throw InvalidValue(
          "agency \(code): a commune-level agency names the commune it serves, and only it"
        )
      }
      directory[agency.code] = agency
    }
    return directory
  }

  private static func checkCompetence(
    of procedure: Procedure,
    in directory: [AgencyCode: AgencyListing]
  ) throws {
    let code = procedure.code.rawValue
    guard !procedure.competence.isEmpty, procedure.competence.allSatisfy({ !$0.agencies.isEmpty })
    else {
      throw InvalidValue("procedure \(code) needs at least one level with at least one agency")
    }
    var levels: Set<GovernmentLevel> = []
    var seen: Set<AgencyCode> = []
    for competence in procedure.competence {
      guard levels.insert(competence.level).inserted else {
        throw InvalidValue("procedure \(code) lists level \(competence.level.rawValue) twice")
      }
      guard !competence.authority.isEmpty, !competence.source.isEmpty else {
        throw InvalidValue(
          "procedure \(code) level \(competence.level.rawValue) needs its deciding authority and its legal source"
        )
      }
      for agency in competence.agencies {
        guard let listing = directory[agency] else {
          throw InvalidValue(
            "procedure \(code) names agency \(agency.rawValue), which the directory does not list"
          )
        }
        guard listing.level == competence.level else {
          throw InvalidValue(
            "procedure \(code) names \(listing.level.rawValue)-level agency \(agency.rawValue) at level \(competence.level.rawValue)"
          )
        }
        guard seen.insert(agency).inserted else {
          throw InvalidValue("procedure \(code) names agency \(agency.rawValue) twice")
        }
      }
    }
  }

  private static func checkGroups(of procedure: Procedure, documentIDs: Set<String>) throws {
    var groups: [String: Int] = [:]
    for document in procedure.documents {
      if case .oneOf(let group) = document.requirement { groups[group, default: 0] += 1 }
    }
    for (group, members) in groups {
      guard !group.isEmpty, !documentIDs.contains(group), members >= 2 else {
        throw InvalidValue(
          "procedure \(procedure.code.rawValue): one-of group '\(group)' needs a name of its own and at least two documents"
        )
      }
    }
  }

  /// The procedure with this code, if the catalog has it.
  public func procedure(_ code: ProcedureCode) -> Procedure? {
    self.procedures[code]
  }

  /// Every procedure, by code.
  public var all: [Procedure] {
    self.procedures.values.sorted { $0.code.rawValue < $1.code.rawValue }
  }
}

/// The catalog in force, replaceable while the service runs (a reload swaps it atomically;
/// requests already running keep the version they started with).
public final class CatalogHolder: Sendable {
  private let catalog: Mutex<ProcedureCatalog>

  /// Starts with a catalog.
  public init(_ catalog: ProcedureCatalog) {
    self.catalog = Mutex(catalog)
  }

  /// The catalog in force.
  public var current: ProcedureCatalog {
    self.catalog.withLock { $0 }
  }

  /// Puts a new version in force.
  public func replace(with catalog: ProcedureCatalog) {
    self.catalog.withLock { $0 = catalog }
  }
}
