/// One paper (or set of identical papers) the citizen handed over.
public struct HandedOverItem: Hashable, Sendable {
  /// The catalog's document id.
  public var documentID: String
  /// `.original` or `.copy`.
  public var form: DocumentForm
  /// Number of pages.
  public var pages: Int

  /// Creates an item.
  public init(documentID: String, form: DocumentForm, pages: Int) {
    self.documentID = documentID
    self.form = form
    self.pages = pages
  }
}

/// A published item the citizen did not hand over (in full).
public struct MissingItem: Hashable, Sendable {
  /// The catalog's document id.
  public var documentID: String
  /// Its published name, to guide the citizen.
  public var name: String
  /// The form required.
  public var form: DocumentForm
  /// How many more are needed.
  public var quantity: Int
  /// For a "one of these" group (then ``documentID`` is the group's name): the document ids any
  /// one of which completes it; empty for a single item.
  public var alternatives: [String]

  /// Creates a missing item.
  public init(
    documentID: String,
    name: String,
    form: DocumentForm,
    quantity: Int,
    alternatives: [String] = []
  ) {
    self.documentID = documentID
    self.name = name
    self.form = form
    self.quantity = quantity
    self.alternatives = alternatives
  }
}

/// Count and check (QĐ 45 art. 6.2–6.3): compares what the citizen handed over with the
/// procedure's published list. It only ever reports published items as missing, never asks for
/// anything else — except the power of attorney when an authorised person applies.
public enum DossierCheck {
  /// The power of attorney asked for when an authorised person applies (BLDS 2015 art. 138 and
  /// 562; for civil status TT 04/2020/TT-BTP art. 2: the authorisation is in writing and
  /// certified [C]); the original or a certified copy is accepted.
  public static let authorization = Procedure.Document(
    id: Applicant.authorizationDocumentID,
    name: "Văn bản ủy quyền (giấy ủy quyền) có chứng thực",
    form: .copy,
    quantity: 1
  )

  /// The items the dossier must contain: the published list, plus the power of attorney when an
  /// authorised person applies.
  public static func checklist(
    for procedure: Procedure,
    authorizedPerson: Bool
  ) -> [Procedure.Document] {
    procedure.documents + (authorizedPerson ? [Self.authorization] : [])
  }

  /// The published items not (fully) satisfied, in the list's order. Optional items are never
  /// missing; a "one of" group is missing, once, when none of its papers is fully handed over.
  /// - Parameters:
  ///   - items: What was handed over; every document id must be in the checklist.
  ///   - procedure: The procedure.
  ///   - authorizedPerson: Whether an authorised person applies (the power of attorney is then
  ///     required).
  /// - Returns: The missing items; empty when the dossier is complete.
  public static func missingItems(
    _ items: [HandedOverItem],
    for procedure: Procedure,
    authorizedPerson: Bool = false
  ) -> [MissingItem] {
    let checklist = Self.checklist(for: procedure, authorizedPerson: authorizedPerson)
    func shortfall(_ document: Procedure.Document) -> Int {
      let handedOver = items.filter {
        $0.documentID == document.id && document.form.isSatisfied(by: $0.form)
      }.count
      return max(0, document.quantity - handedOver)
    }
    var reportedGroups: Set<String> = []
    return checklist.compactMap { document in
      switch document.requirement {
      case .optional:
        return nil
      case .required:
        let short = shortfall(document)
        guard short > 0 else { return nil }
        return MissingItem(
          documentID: document.id,
          name: document.name,
          form: document.form,
          quantity: short
        )
      case .oneOf(let group):
        guard reportedGroups.insert(group).inserted else { return nil }
        let members = checklist.filter { $0.requirement == .oneOf(group) }
        guard !members.contains(where: { shortfall($0) == 0 }) else { return nil }
        return MissingItem(
          documentID: group,
          name: "Một trong các giấy tờ: " + members.map(\.name).joined(separator: "; "),
          form: document.form,
          quantity: 1,
          alternatives: members.map(\.id)
        )
      }
    }
  }
}
