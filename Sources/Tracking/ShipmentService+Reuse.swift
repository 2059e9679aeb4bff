/// A dossier item recorded by the code of a paper already digitized instead of a new scan.
public struct PaperReuse: Hashable, Sendable {
  /// The shipment whose item it is.
  public var trackingNumber: TrackingNumber
  /// The dossier item (catalog document id).
  public var documentID: String
  /// The code of the digitized paper reused (a ``Scan/documentCode`` of an earlier dossier).
  public var documentCode: String

  /// Creates a reuse.
  public init(trackingNumber: TrackingNumber, documentID: String, documentCode: String) {
    self.trackingNumber = trackingNumber
    self.documentID = documentID
    self.documentCode = documentCode
  }
}

extension Applicant {
  /// Whether a paper digitized for `other` belongs to this applicant too: the same
  /// organisation when both file for one, else the same identity document of the person named.
  public func owns(papersOf other: Applicant) -> Bool {
    switch (self.organisation, other.organisation) {
    case (let mine?, let theirs?): mine.code == theirs.code
    case (nil, nil): self.identity == other.identity
    default: false
    }
  }
}

extension ShipmentService {
  /// Records a dossier item by the code of a paper digitized for an earlier dossier of the same
  /// applicant (Thái Nguyên 103/KH-UBND: papers already accepted are not resubmitted). The item
  /// points at the same stored file, gets its own document code, and counts as digitized: the
  /// last missing item moves the shipment to `DIGITIZED`, as a scan does. The same code for the
  /// same item is recorded once.
  /// - Returns: The events appended (none for a repeat) and the item's record.
  /// - Throws: ``TrackingError`` `.notFound` (shipment or code), `.invalidArgument` (item not
  ///   handed over; a paper of this very dossier), `.permissionDenied` (another applicant's
  ///   paper), `.failedPrecondition` (the paper's owner was erased), `.illegalTransition`,
  ///   `.requestIDReused`, `.storageFailure`.
  public func reusePaper(
    _ reuse: PaperReuse,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> (RecordedEvent?, Scan) {
    guard let (sourceNumber, source) = try await self.store.scan(documentCode: reuse.documentCode)
    else {
      throw TrackingError(
        code: .notFound,
        message: "document_code: no digitized paper has the code \(reuse.documentCode)"
      )
    }
    guard sourceNumber != reuse.trackingNumber else {
      throw TrackingError.invalidField("document_code", "is a paper of this same dossier")
    }
    let owner = try await self.shipment(sourceNumber)
    guard owner.personalDataErasedAt == nil else {
      throw TrackingError(
        code: .failedPrecondition,
        message:
          "document_code: the paper's dossier had its personal data erased; its owner cannot be checked"
      )
    }
    let applicant = owner.applicant
    return try await self.appendItem(
      to: reuse.trackingNumber,
      documentID: reuse.documentID,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now,
      check: { shipment in
        guard shipment.applicant.owns(papersOf: applicant) else {
          throw TrackingError(
            code: .permissionDenied,
            message: "document_code: the paper belongs to another applicant"
          )
        }
      },
      isSame: { $0.reusedFrom == reuse.documentCode },
      make: { code in
        Scan(
          documentID: reuse.documentID,
          documentCode: code,
          sha256: source.sha256,
          size: source.size,
          contentType: source.contentType,
          reusedFrom: reuse.documentCode
        )
      }
    )
  }
}
