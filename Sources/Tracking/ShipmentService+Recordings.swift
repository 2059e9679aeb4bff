/// A collection as the clerk submits it: what was handed over, and (for a complete dossier) the
/// seal, the fee and the postage.
public struct CollectionRecording: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The papers handed over; every document id is from the procedure's list.
  public var items: [HandedOverItem]
  /// The seal; required when the dossier is complete.
  public var sealID: SealID?
  /// The procedure fee collected for the agency, VND: the catalog's fee, or 0 when paid to the
  /// agency directly.
  public var feeCollectedVND: Int64
  /// The postage, VND.
  public var postageVND: Int64
  /// Copies of the result the applicant asks for (1–100).
  public var copies: Int
  /// When, where, why.
  public var context: EventContext

  /// Creates a recording.
  public init(
    trackingNumber: TrackingNumber,
    items: [HandedOverItem],
    sealID: SealID?,
    feeCollectedVND: Int64,
    postageVND: Int64,
    copies: Int = 1,
    context: EventContext = EventContext()
  ) {
    self.trackingNumber = trackingNumber
    self.items = items
    self.sealID = sealID
    self.feeCollectedVND = feeCollectedVND
    self.postageVND = postageVND
    self.copies = copies
    self.context = context
  }
}

/// A digitized item whose file is already stored.
public struct ScanRecording: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// The dossier item.
  public var documentID: String
  /// SHA-256 of the stored file, hex.
  public var sha256: String
  /// Its size.
  public var size: Int64
  /// Its type.
  public var contentType: ScanContentType

  /// Creates a recording.
  public init(
    trackingNumber: TrackingNumber,
    documentID: String,
    sha256: String,
    size: Int64,
    contentType: ScanContentType
  ) {
    self.trackingNumber = trackingNumber
    self.documentID = documentID
    self.sha256 = sha256
    self.size = size
    self.contentType = contentType
  }
}

/// What the courier reports at delivery, before identity numbers are hashed.
public enum DeliveryReport: Hashable, Sendable {
  /// Handed over.
  case delivered(DeliveryProofReport)
  /// Not handed over.
  case failed(DeliveryFailureReason)
}

/// Proof of delivery as reported (the identity number in clear, for hashing and masking only).
public struct DeliveryProofReport: Hashable, Sendable {
  public var recipientName: PersonName
  public var identityType: IdentityDocumentType
  public var identityNumber: IdentityNumber
  public var authorizationReference: String?
  public var signatureSHA256: String
  public var photoSHA256: String?
  public var papersRecalled: [String]
  public var feesCollectedVND: Int64

  /// Creates a report.
  public init(
    recipientName: PersonName,
    identityType: IdentityDocumentType,
    identityNumber: IdentityNumber,
    authorizationReference: String?,
    signatureSHA256: String,
    photoSHA256: String?,
    papersRecalled: [String],
    feesCollectedVND: Int64
  ) {
    self.recipientName = recipientName
    self.identityType = identityType
    self.identityNumber = identityNumber
    self.authorizationReference = authorizationReference
    self.signatureSHA256 = signatureSHA256
    self.photoSHA256 = photoSHA256
    self.papersRecalled = papersRecalled
    self.feesCollectedVND = feesCollectedVND
  }
}
