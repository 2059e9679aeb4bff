/// A fee the procedure's legal fee circular sets per copy of the result or per page, charged on
/// top of the flat fee per dossier.
public struct FeeRule: Hashable, Sendable {
  /// What the fee is counted on.
  public enum Basis: Hashable, Sendable {
    /// A price for each copy of the result the applicant asks for, e.g. 8 000 VND per copy of a
    /// civil-status extract (TT 281/2016/TT-BTC).
    case perCopy(unitVND: Int64)
    /// A price for each page of every paper handed over as `documentID`: `firstVND` for each of
    /// the first `firstPages` pages, `laterVND` for each later one, at most `capVND` per paper
    /// (e.g. 2 000 VND per page, 1 000 from the third, at most 200 000 per copy for certified
    /// copies, TT 226/2016/TT-BTC).
    case perPage(
      documentID: String,
      firstPages: Int,
      firstVND: Int64,
      laterVND: Int64,
      capVND: Int64?
    )
  }

  /// What the fee is counted on.
  public var basis: Basis
  /// The line's wording on the receipt.
  public var description: String
  /// The legal text that sets the amount.
  public var source: String

  /// Creates a rule.
  public init(basis: Basis, description: String, source: String) {
    self.basis = basis
    self.description = description
    self.source = source
  }

  static func check(_ rules: [FeeRule], of procedure: Procedure, documentIDs: Set<String>) throws {
    let code = procedure.code.rawValue
    for rule in rules {
      guard !rule.description.isEmpty, !rule.source.isEmpty,
        !rule.description.contains(where: \.isNewline)
      else {
        throw InvalidValue(
          "procedure \(code): every fee rule needs a description and its legal source"
        )
      }
      switch rule.basis {
      case .perCopy(let unit):
        guard unit >= 0 else { throw InvalidValue("procedure \(code): a negative fee per copy") }
      case .perPage(let document, let firstPages, let first, let later, let cap):
        guard documentIDs.contains(document) else {
          throw InvalidValue(
            "procedure \(code): a fee per page of \(document), which is not listed"
          )
        }
        guard firstPages >= 0, first >= 0, later >= 0, (cap ?? 0) >= 0 else {
          throw InvalidValue("procedure \(code): a negative fee per page")
        }
      }
    }
  }
}

/// One line of the fee receipt (biên lai).
public struct FeeLine: Hashable, Sendable, Codable {
  /// What is charged, as printed.
  public var description: String
  /// How many units.
  public var quantity: Int
  /// The price of one, VND.
  public var unitVND: Int64
  /// `quantity × unitVND`, or the capped amount.
  public var amountVND: Int64

  /// Creates a line.
  public init(description: String, quantity: Int, unitVND: Int64, amountVND: Int64) {
    self.description = description
    self.quantity = quantity
    self.unitVND = unitVND
    self.amountVND = amountVND
  }
}

/// The fee for one dossier, line by line, as the counter charges it and the receipt prints it.
public struct FeeQuote: Hashable, Sendable {
  /// The receipt's lines; empty when nothing is charged.
  public var lines: [FeeLine]

  /// The total, VND.
  public var totalVND: Int64 { self.lines.reduce(0) { $0 + $1.amountVND } }

  /// Computes the fee.
  /// - Parameters:
  ///   - flatVND: The fee per dossier.
  ///   - rules: Fees per copy or per page.
  ///   - items: The papers handed over.
  ///   - copies: Copies of the result requested (at least 1).
  public init(flatVND: Int64, rules: [FeeRule], items: [HandedOverItem], copies: Int) {
    var lines: [FeeLine] = []
    if flatVND > 0 {
      lines.append(
        .init(description: "Phí, lệ phí hồ sơ", quantity: 1, unitVND: flatVND, amountVND: flatVND)
      )
    }
    for rule in rules {
      switch rule.basis {
      case .perCopy(let unit):
        lines.append(
          .init(
            description: rule.description,
            quantity: copies,
            unitVND: unit,
            amountVND: unit * Int64(copies)
          )
        )
      case .perPage(let document, let firstPages, let first, let later, let cap):
        for item in items where item.documentID == document {
          let pages = max(item.pages, 0)
          let early = Int64(min(pages, firstPages))
          let rest = Int64(max(0, pages - firstPages))
          var amount = early * first + rest * later
          if let cap { amount = min(amount, cap) }
          lines.append(
            .init(
              description: "\(rule.description) (\(pages) trang)",
              quantity: 1,
              unitVND: amount,
              amountVND: amount
            )
          )
        }
      }
    }
    self.lines = lines
  }
}

/// Whether a published paper must be handed over.
public enum DocumentRequirement: Hashable, Sendable {
  /// It must (the default).
  case required
  /// It may be; its absence never makes the dossier incomplete.
  case optional
  /// Any one paper of the named group satisfies the group (e.g. a birth certificate, or the
  /// witnesses' statement, or a written commitment, Luật Hộ tịch 2014 art. 16.1).
  case oneOf(String)
}

/// The postage the post charges for the one-stop service, by service and route class: the
/// tariff the post publishes and posts at its service points (QĐ 45/2016/QĐ-TTg art. 12.1–12.3:
/// the citizen pays it; it is kept apart from the agency's fee).
public struct PostageTariff: Hashable, Sendable {
  /// The tariff's version, recorded with every postage charged under it.
  public var version: String
  /// The decision or notice that sets the amounts.
  public var source: String
  /// VND per service type and route class of the dossier's postal leg.
  public var rates: [ServiceType: [RouteClass: Int64]]

  /// Creates a tariff.
  public init(version: String, source: String, rates: [ServiceType: [RouteClass: Int64]]) {
    self.version = version
    self.source = source
    self.rates = rates
  }

  /// The postage for a service on a route, if the tariff prices it.
  public func postage(for service: ServiceType, on route: RouteClass) -> Int64? {
    self.rates[service]?[route]
  }

  /// The receipt's postage line.
  public func line(for service: ServiceType, on route: RouteClass) -> FeeLine? {
    self.postage(for: service, on: route).map {
      FeeLine(
        description: "Cước dịch vụ bưu chính công ích (\(service.rawValue), \(route.rawValue))",
        quantity: 1,
        unitVND: $0,
        amountVND: $0
      )
    }
  }
}
