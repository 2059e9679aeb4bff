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

  /// Creates a missing item.
  public init(documentID: String, name: String, form: DocumentForm, quantity: Int) {
    self.documentID = documentID
    self.name = name
    self.form = form
    self.quantity = quantity
  }
}

/// Count and check (QĐ 45 art. 6.2–6.3): compares what the citizen handed over with the
/// procedure's published list. It only ever reports published items as missing, never asks for
/// anything else.
public enum DossierCheck {
  /// The published items not (fully) satisfied, in the list's order.
  /// - Parameters:
  ///   - items: What was handed over; every document id must be in the list.
  ///   - procedure: The procedure.
  /// - Returns: The missing items; empty when the dossier is complete.
  public static func missingItems(
    _ items: [HandedOverItem],
    for procedure: Procedure
  ) -> [MissingItem] {
    procedure.documents.compactMap { document in
      let handedOver = items.filter {
        $0.documentID == document.id && document.form.isSatisfied(by: $0.form)
      }.count
      guard handedOver < document.quantity else { return nil }
      return MissingItem(
        documentID: document.id,
        name: document.name,
        form: document.form,
        quantity: document.quantity - handedOver
      )
    }
  }
}
