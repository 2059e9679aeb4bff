/// What some events carry beyond who, when and where.
public enum EventDetails: Hashable, Sendable {
  /// `COLLECTED`: the counted dossier, its seal, the fee and the postage.
  case collection(DossierCollection)
  /// `GUIDED_INCOMPLETE`: what was handed over and what is missing.
  case guidance(Guidance)
  /// `SCANNED`: one digitized item.
  case scan(Scan)
  /// `RESULT_COLLECTED`: the result as taken at the agency.
  case resultCollection(ResultCollection)
  /// `DELIVERED` or `DELIVERY_FAILED`.
  case delivery(DeliveryAttempt)
  /// `DAMAGED`: the inventory and the new seal.
  case damage(DamageReport)
  /// `CORRECTION`: which event was recorded wrongly.
  case correction(Correction)
  /// `DIGITIZED` for an agency with a route: the electronic handoff queued in the same write.
  case handoffQueued(HandoffTicket)
  /// `AGENCY_ACCEPTED` or `AGENCY_REJECTED`: the agency's decision on a handoff.
  case agencyDecision(AgencyDecision)
  /// `SUPPLEMENT_REQUESTED`: what the agency asks for.
  case supplement(SupplementRequest)
  /// `RESULT_READY` reported by the agency: what the courier will collect.
  case resultNotice(ResultNotice)
  /// `PROCESSING_EXTENDED`: the apology and the new appointment.
  case processingExtension(ProcessingExtension)
  /// `APPOINTMENT_RECEIVED`: the date on the agency's receipt-and-appointment slip.
  case appointment(CivilDate)
  /// `PERSONAL_DATA_CORRECTED`: the applicant as corrected and which fields changed.
  case personalDataCorrection(PersonalDataCorrection)
}

extension ShipmentEvent {
  /// Whether the event corrects the applicant's personal data.
  public var correctsApplicant: Bool {
    if case .personalDataCorrection = self.details { return true }
    return false
  }
}

/// A complete dossier as accepted at collection.
public struct DossierCollection: Hashable, Sendable {
  /// The catalog version the dossier was checked against.
  public var catalogVersion: String
  /// What was handed over.
  public var items: [HandedOverItem]
  /// The seal put on the envelope.
  public var sealID: String
  /// The procedure's fee collected for the agency (phí, lệ phí), VND.
  public var feeCollectedVND: Int64
  /// The postage paid by the citizen, VND (kept apart from the fee).
  public var postageVND: Int64
  /// The fee receipt (biên lai) number.
  public var receiptID: String
  /// Copies of the result the applicant asked for.
  public var copies: Int
  /// The receipt's lines when the fee was collected here; empty when it is paid to the agency.
  public var feeLines: [FeeLine]
  /// The receipt's postage line, when the catalog carries a postage tariff.
  public var postageLine: FeeLine?

  /// Creates a collection.
  public init(
    catalogVersion: String,
    items: [HandedOverItem],
    sealID: String,
    feeCollectedVND: Int64,
    postageVND: Int64,
    receiptID: String,
    copies: Int = 1,
    feeLines: [FeeLine] = [],
    postageLine: FeeLine? = nil
  ) {
    self.catalogVersion = catalogVersion
    self.items = items
    self.sealID = sealID
    self.feeCollectedVND = feeCollectedVND
    self.postageVND = postageVND
    self.receiptID = receiptID
    self.copies = copies
    self.feeLines = feeLines
    self.postageLine = postageLine
  }
}

/// Guidance given for an incomplete dossier (QĐ 45 art. 6.3).
public struct Guidance: Hashable, Sendable {
  /// The catalog version the dossier was checked against.
  public var catalogVersion: String
  /// What was handed over.
  public var items: [HandedOverItem]
  /// What is missing, from the published list only.
  public var missing: [MissingItem]

  /// Creates guidance.
  public init(catalogVersion: String, items: [HandedOverItem], missing: [MissingItem]) {
    self.catalogVersion = catalogVersion
    self.items = items
    self.missing = missing
  }
}

/// The file types a scan may have.
public enum ScanContentType: String, Hashable, Sendable, CaseIterable {
  case pdf = "application/pdf"
  case jpeg = "image/jpeg"
  case png = "image/png"
  case tiff = "image/tiff"

  /// Whether a file's first bytes are this type's signature.
  /// - Parameter prefix: At least the first 8 bytes of the file.
  public func matchesSignature(_ prefix: some Swift.Collection<UInt8>) -> Bool {
    let bytes = Array(prefix.prefix(8))
    switch self {
    case .pdf: return bytes.starts(with: Array("%PDF-".utf8))
    case .jpeg: return bytes.starts(with: [0xFF, 0xD8, 0xFF])
    case .png: return bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    case .tiff:
      return bytes.starts(with: [0x49, 0x49, 0x2A, 0x00])
        || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
    }
  }
}

/// One digitized document item.
public struct Scan: Hashable, Sendable {
  /// The catalog's document id of the item.
  public var documentID: String
  /// The code of this digitized document, unique in the service.
  public var documentCode: String
  /// SHA-256 of the file, lower-case hex.
  public var sha256: String
  /// Its size in bytes.
  public var size: Int64
  /// Its type.
  public var contentType: ScanContentType
  /// When the item was not scanned but reuses a paper digitized for an earlier dossier of the
  /// same applicant: that paper's document code.
  public var reusedFrom: String?

  /// Creates a scan record.
  public init(
    documentID: String,
    documentCode: String,
    sha256: String,
    size: Int64,
    contentType: ScanContentType,
    reusedFrom: String? = nil
  ) {
    self.documentID = documentID
    self.documentCode = documentCode
    self.sha256 = sha256
    self.size = size
    self.contentType = contentType
    self.reusedFrom = reusedFrom
  }
}

/// The result as the courier takes it at the agency (QĐ 45 art. 9).
public struct ResultCollection: Hashable, Sendable {
  /// The result documents.
  public var documents: [String]
  /// Originals of the dossier the agency returns with the result.
  public var originalsToReturn: [String]
  /// Papers to take back from the citizen at delivery (thu hồi).
  public var papersToRecall: [String]
  /// Fee the agency wants collected on delivery, VND.
  public var feeToCollectVND: Int64
  /// The seal put on the result.
  public var sealID: String

  /// Creates a result collection.
  public init(
    documents: [String],
    originalsToReturn: [String],
    papersToRecall: [String],
    feeToCollectVND: Int64,
    sealID: String
  ) {
    self.documents = documents
    self.originalsToReturn = originalsToReturn
    self.papersToRecall = papersToRecall
    self.feeToCollectVND = feeToCollectVND
    self.sealID = sealID
  }
}

/// Why a delivery failed, normalized.
public enum DeliveryFailureReason: String, Hashable, Sendable, CaseIterable {
  case recipientAbsent = "RECIPIENT_ABSENT"
  case refused = "REFUSED"
  case wrongAddress = "WRONG_ADDRESS"
  case identityMismatch = "IDENTITY_MISMATCH"
  case proxyNotAuthorized = "PROXY_NOT_AUTHORIZED"
  case feeNotPaid = "FEE_NOT_PAID"
  case premisesClosed = "PREMISES_CLOSED"
  case other = "OTHER"
}

/// The identity papers a recipient may show.
public enum IdentityDocumentType: String, Hashable, Sendable, CaseIterable {
  /// The citizen id card (CCCD, căn cước) with the 12-digit personal identification number.
  case citizenIDCard = "CITIZEN_ID_CARD"
  /// A passport.
  case passport = "PASSPORT"
  /// The 9-digit CMND: kept only to read old records back; no longer accepted.
  case identityCard = "IDENTITY_CARD"
  /// Kept only to read old records back; no longer accepted.
  case other = "OTHER"

  /// Refuses the papers that may no longer be shown.
  /// - Throws: ``InvalidValue`` for a CMND (valid until 31/12/2024, Luật Căn cước 2023 art.
  ///   46.3) and for an unnamed paper.
  public func checkAccepted() throws {
    switch self {
    case .citizenIDCard, .passport:
      return
    case .identityCard:
      throw InvalidValue(
        "is a CMND, which lost its validity on 1/1/2025 (Luật Căn cước 2023 art. 46.3); the recipient shows a citizen id card or a passport"
      )
    case .other:
      throw InvalidValue("is not accepted: the recipient shows a citizen id card or a passport")
    }
  }
}

/// Proof of delivery (QĐ 45 art. 10; TT 17 art. 5.2).
public struct ProofOfDelivery: Hashable, Sendable {
  /// Who received it (personal data).
  public var recipientName: PersonName
  /// The identity paper shown.
  public var identityType: IdentityDocumentType
  /// Keyed hash of the paper's number; the number itself is not kept.
  public var identityNumberHash: String
  /// The number masked for display, e.g. `019******123`.
  public var identityNumberMasked: String
  /// For a proxy: the reference of the authorization letter.
  public var authorizationReference: String?
  /// SHA-256 of the signature image, hex.
  public var signatureSHA256: String
  /// SHA-256 of the delivery photo, hex (optional).
  public var photoSHA256: String?
  /// Papers taken back from the recipient.
  public var papersRecalled: [String]
  /// Fees collected on delivery, VND.
  public var feesCollectedVND: Int64

  /// Creates a proof.
  public init(
    recipientName: PersonName,
    identityType: IdentityDocumentType,
    identityNumberHash: String,
    identityNumberMasked: String,
    authorizationReference: String?,
    signatureSHA256: String,
    photoSHA256: String?,
    papersRecalled: [String],
    feesCollectedVND: Int64
  ) {
    self.recipientName = recipientName
    self.identityType = identityType
    self.identityNumberHash = identityNumberHash
    self.identityNumberMasked = identityNumberMasked
    self.authorizationReference = authorizationReference
    self.signatureSHA256 = signatureSHA256
    self.photoSHA256 = photoSHA256
    self.papersRecalled = papersRecalled
    self.feesCollectedVND = feesCollectedVND
  }
}

/// One delivery attempt.
public enum DeliveryAttempt: Hashable, Sendable {
  /// Handed over, with proof.
  case delivered(ProofOfDelivery)
  /// Not handed over; the citizen is invited to collect it.
  case failed(DeliveryFailureReason)
}

/// Damage found on the envelope (TT 17 art. 11): inventory, record, re-wrap.
public struct DamageReport: Hashable, Sendable {
  /// What the inventory found.
  public var inventory: [String]
  /// The seal of the new wrapping.
  public var newSealID: String

  /// Creates a report.
  public init(inventory: [String], newSealID: String) {
    self.inventory = inventory
    self.newSealID = newSealID
  }
}

/// A wrongly recorded event, voided. The event stays in the history; the state is recomputed
/// without it.
public struct Correction: Hashable, Sendable {
  /// The sequence number of the voided event.
  public var voidedSequence: Int
  /// Why.
  public var reason: String

  /// Creates a correction.
  public init(voidedSequence: Int, reason: String) {
    self.voidedSequence = voidedSequence
    self.reason = reason
  }
}
