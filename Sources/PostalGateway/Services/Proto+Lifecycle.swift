import Proto
import SwiftProtobuf
import Tracking

// Wire ↔ domain for the lifecycle RPCs (collection, scans, result leg, exceptions, offline sync).

extension EventContext {
  /// The common `occurred_at`, `location` and `note` fields.
  init(
    occurredAt: Google_Protobuf_Timestamp?,
    location: String,
    note: String,
    validator v: inout RequestValidator
  ) {
    self.init()
    if let occurredAt { self.occurredAt = v.check("occurred_at") { try Timestamp(occurredAt) } }
    if !location.isEmpty {
      self.location = v.check("location") { try PostOfficeCode(validating: location) }
    }
    self.note = v.check("note") {
      try BoundedText(validating: note, maximumLength: 500, required: false)
    }
  }
}

extension Postalgateway_V1_RecordCollectionRequest {
  /// The most papers one collection may list.
  static let maximumItems = 100
  /// The most copies of the result one dossier may ask for.
  static let maximumCopies: Int32 = 100

  func domain() throws -> (RequestID, CollectionRecording) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") { try TrackingNumber(validating: self.trackingNumber) }
    var items: [HandedOverItem] = []
    if self.items.count > Self.maximumItems {
      v.fail("items", "has more than \(Self.maximumItems) entries")
    }
    for (index, item) in self.items.prefix(Self.maximumItems).enumerated() {
      if let parsed = item.domain(at: "items[\(index)]", validator: &v) { items.append(parsed) }
    }
    let seal =
      self.sealID.isEmpty ? nil : v.check("seal_id") { try SealID(validating: self.sealID) }
    if self.feeCollectedVnd < 0 { v.fail("fee_collected_vnd", "must not be negative") }
    if self.postageVnd < 0 { v.fail("postage_vnd", "must not be negative") }
    if !(0 ... Self.maximumCopies).contains(self.copies) {
      v.fail("copies", "must be 1–\(Self.maximumCopies) (0 means 1)")
    }
    let context = EventContext(
      occurredAt: self.hasOccurredAt ? self.occurredAt : nil,
      location: self.location,
      note: self.note,
      validator: &v
    )
    try v.finish()
    // finish() threw if a required value is nil.
    return (
      requestID!,
      CollectionRecording(
        trackingNumber: number!,
        items: items,
        sealID: seal,
        feeCollectedVND: self.feeCollectedVnd,
        postageVND: self.postageVnd,
        copies: max(1, Int(self.copies)),
        context: context
      )
    )
  }
}

extension Postalgateway_V1_HandedOverItem {
  fileprivate func domain(at path: String, validator v: inout RequestValidator) -> HandedOverItem? {
    if self.documentID.isEmpty { v.fail("\(path).document_id", "is required") }
    if self.documentID.utf8.count > 64 { v.fail("\(path).document_id", "is longer than 64 bytes") }
    let form: DocumentForm?
    switch self.form {
    case .original: form = .original
    case .copy: form = .copy
    default:
      form = nil
      v.fail("\(path).form", "must be ORIGINAL or COPY")
    }
    if self.pages < 1 { v.fail("\(path).pages", "must be at least 1") }
    guard let form, !self.documentID.isEmpty, self.documentID.utf8.count <= 64, self.pages >= 1
    else { return nil }
    return HandedOverItem(documentID: self.documentID, form: form, pages: Int(self.pages))
  }

  init(_ item: HandedOverItem) {
    self.init()
    self.documentID = item.documentID
    self.form = item.form.proto
    self.pages = Int32(clamping: item.pages)
  }
}

extension Postalgateway_V1_MissingItem {
  init(_ item: MissingItem) {
    self.init()
    self.documentID = item.documentID
    self.name = item.name
    self.form = item.form.proto
    self.quantity = Int32(clamping: item.quantity)
    self.alternatives = item.alternatives
  }
}

extension DocumentForm {
  var proto: Postalgateway_V1_DocumentForm {
    switch self {
    case .original: .original
    case .copy: .copy
    case .any: .any
    }
  }
}

extension ScanContentType {
  init(_ proto: Postalgateway_V1_ScanContentType) throws {
    switch proto {
    case .pdf: self = .pdf
    case .jpeg: self = .jpeg
    case .png: self = .png
    case .tiff: self = .tiff
    case .unspecified, .UNRECOGNIZED: throw InvalidValue("must be PDF, JPEG, PNG or TIFF")
    }
  }

  var proto: Postalgateway_V1_ScanContentType {
    switch self {
    case .pdf: .pdf
    case .jpeg: .jpeg
    case .png: .png
    case .tiff: .tiff
    }
  }
}

extension Postalgateway_V1_ScanDetails {
  init(_ scan: Scan) {
    self.init()
    self.documentID = scan.documentID
    self.documentCode = scan.documentCode
    self.sha256 = scan.sha256
    self.size = scan.size
    self.contentType = scan.contentType.proto
    self.reusedFrom = scan.reusedFrom ?? ""
  }
}

extension Postalgateway_V1_ResultDetails {
  init(_ result: ResultCollection) {
    self.init()
    self.documents = result.documents
    self.originalsToReturn = result.originalsToReturn
    self.papersToRecall = result.papersToRecall
    self.feeToCollectVnd = result.feeToCollectVND
    self.sealID = result.sealID
  }
}

extension NormalizedStatus {
  var proto: Postalgateway_V1_NormalizedStatus {
    switch self {
    case .infoReceived: .infoReceived
    case .inTransit: .inTransit
    case .atAgency: .atAgency
    case .resultReady: .resultReady
    case .outForDelivery: .outForDelivery
    case .delivered: .delivered
    case .attemptFailed: .attemptFailed
    case .returned: .returned
    case .exception: .exception
    case .cancelled: .cancelled
    }
  }
}

extension DeliveryFailureReason {
  init(_ proto: Postalgateway_V1_DeliveryFailureReason) throws {
    guard let reason = Self.allCases.first(where: { $0.proto == proto }) else {
      throw InvalidValue("is not a known failure reason")
    }
    self = reason
  }

  var proto: Postalgateway_V1_DeliveryFailureReason {
    switch self {
    case .recipientAbsent: .recipientAbsent
    case .refused: .refused
    case .wrongAddress: .wrongAddress
    case .identityMismatch: .identityMismatch
    case .proxyNotAuthorized: .proxyNotAuthorized
    case .feeNotPaid: .feeNotPaid
    case .premisesClosed: .premisesClosed
    case .other: .other
    }
  }
}

extension IdentityDocumentType {
  init(_ proto: Postalgateway_V1_IdentityDocumentType) throws {
    guard let type = Self.allCases.first(where: { $0.proto == proto }) else {
      throw InvalidValue("is not a known identity paper")
    }
    self = type
  }

  var proto: Postalgateway_V1_IdentityDocumentType {
    switch self {
    case .citizenIDCard: .citizenIDCard
    case .passport: .passport
    case .identityCard: .identityCard
    case .other: .other
    }
  }
}

/// Lists of short texts (document names, inventory lines): each 1–200 characters, at most 50.
func textList(
  _ values: [String],
  field: String,
  required: Bool,
  validator v: inout RequestValidator
)
  -> [String]
{
  if required, values.isEmpty { v.fail(field, "needs at least one entry") }
  if values.count > 50 { v.fail(field, "has more than 50 entries") }
  var result: [String] = []
  for (index, value) in values.prefix(50).enumerated() {
    if let text = v.check(
      "\(field)[\(index)]",
      { try BoundedText(validating: value, maximumLength: 200, required: true) }
    ) {
      result.append(text.rawValue)
    }
  }
  return result
}

extension Postalgateway_V1_RecordResultCollectedRequest {
  func domain() throws -> (RequestID, TrackingNumber, ResultCollection, EventContext) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") { try TrackingNumber(validating: self.trackingNumber) }
    let documents = textList(
      self.result.documents,
      field: "result.documents",
      required: true,
      validator: &v
    )
    let originals = textList(
      self.result.originalsToReturn,
      field: "result.originals_to_return",
      required: false,
      validator: &v
    )
    let recall = textList(
      self.result.papersToRecall,
      field: "result.papers_to_recall",
      required: false,
      validator: &v
    )
    if self.result.feeToCollectVnd < 0 {
      v.fail("result.fee_to_collect_vnd", "must not be negative")
    }
    let seal = v.check("result.seal_id") { try SealID(validating: self.result.sealID) }
    let context = EventContext(
      occurredAt: self.hasOccurredAt ? self.occurredAt : nil,
      location: self.location,
      note: self.note,
      validator: &v
    )
    try v.finish()
    return (
      requestID!, number!,
      ResultCollection(
        documents: documents,
        originalsToReturn: originals,
        papersToRecall: recall,
        feeToCollectVND: self.result.feeToCollectVnd,
        sealID: seal!.rawValue
      ),
      context
    )
  }
}

extension Postalgateway_V1_RecordDeliveryAttemptRequest {
  func domain(now: Timestamp) throws -> (RequestID, TrackingNumber, DeliveryReport, EventContext) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let (number, report, context) = self.content(now: now, validator: &v)
    try v.finish()
    return (requestID!, number!, report!, context)
  }

  /// Everything but the request id (offline sync uses its own key).
  func content(
    now: Timestamp,
    validator v: inout RequestValidator
  ) -> (TrackingNumber?, DeliveryReport?, EventContext) {
    let number = v.check("tracking_number") { try TrackingNumber(validating: self.trackingNumber) }
    var report: DeliveryReport?
    switch self.outcome {
    case .failed(let reason):
      report = v.check("failed") { try DeliveryFailureReason(reason) }.map(DeliveryReport.failed)
    case .delivered(let proof):
      let name = v.check("delivered.recipient_name") {
        try PersonName(validating: proof.recipientName)
      }
      let type = v.check("delivered.identity_type") {
        let type = try IdentityDocumentType(proof.identityType)
        try type.checkAccepted()
        return type
      }
      let identity = type.flatMap { type in
        v.check("delivered.identity_number") {
          try IdentityNumber(
            validating: proof.identityNumber,
            type: type,
            currentYear: now.yearInVietnam
          )
        }
      }
      let signature = v.check("delivered.signature_sha256") {
        try SHA256Hex.validate(proof.signatureSha256)
      }
      let photo =
        proof.photoSha256.isEmpty
        ? nil : v.check("delivered.photo_sha256") { try SHA256Hex.validate(proof.photoSha256) }
      let authorization =
        proof.authorizationReference.isEmpty
        ? nil
        : v.check("delivered.authorization_reference") {
          try BoundedText(
            validating: proof.authorizationReference,
            maximumLength: 100,
            required: true
          ).rawValue
        }
      let recalled = textList(
        proof.papersRecalled,
        field: "delivered.papers_recalled",
        required: false,
        validator: &v
      )
      if proof.feesCollectedVnd < 0 {
        v.fail("delivered.fees_collected_vnd", "must not be negative")
      }
      if let name, let type, let identity, let signature {
        report = .delivered(
          DeliveryProofReport(
            recipientName: name,
            identityType: type,
            identityNumber: identity,
            authorizationReference: authorization,
            signatureSHA256: signature,
            photoSHA256: photo,
            papersRecalled: recalled,
            feesCollectedVND: proof.feesCollectedVnd
          )
        )
      }
    case nil:
      v.fail("outcome", "either delivered or failed is required")
    }
    let context = EventContext(
      occurredAt: self.hasOccurredAt ? self.occurredAt : nil,
      location: self.location,
      note: self.note,
      validator: &v
    )
    return (number, report, context)
  }
}

extension Postalgateway_V1_RecordDamageRequest {
  func domain() throws -> (RequestID, TrackingNumber, DamageReport, EventContext) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") { try TrackingNumber(validating: self.trackingNumber) }
    let inventory = textList(self.inventory, field: "inventory", required: true, validator: &v)
    let seal = v.check("new_seal_id") { try SealID(validating: self.newSealID) }
    let context = EventContext(
      occurredAt: self.hasOccurredAt ? self.occurredAt : nil,
      location: self.location,
      note: self.note,
      validator: &v
    )
    try v.finish()
    return (
      requestID!, number!, DamageReport(inventory: inventory, newSealID: seal!.rawValue), context
    )
  }
}

extension Postalgateway_V1_CorrectEventRequest {
  func domain() throws -> (RequestID, TrackingNumber, Int, BoundedText, EventContext) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") { try TrackingNumber(validating: self.trackingNumber) }
    if self.sequence < 1 { v.fail("sequence", "must be an event's sequence number") }
    let reason = v.check("reason") {
      try BoundedText(validating: self.reason, maximumLength: 500, required: true)
    }
    let context = EventContext(occurredAt: nil, location: self.location, note: "", validator: &v)
    try v.finish()
    return (requestID!, number!, Int(self.sequence), reason!, context)
  }
}

extension Postalgateway_V1_Procedure {
  init(_ procedure: Procedure, in catalog: ProcedureCatalog) {
    self.init()
    self.code = procedure.code.rawValue
    self.name = procedure.name
    self.agencyCodes = procedure.agencies.map(\.rawValue)
    self.documents = procedure.documents.map { document in
      .with {
        $0.id = document.id
        $0.name = document.name
        $0.form = document.form.proto
        $0.quantity = Int32(clamping: document.quantity)
        switch document.requirement {
        case .required: break
        case .optional: $0.optional = true
        case .oneOf(let group): $0.oneOfGroup = group
        }
      }
    }
    self.processingWorkingDays = Int32(clamping: procedure.processingWorkingDays)
    self.feeVnd = procedure.feeVND
    self.feeRules = procedure.feeRules.map { rule in
      .with {
        $0.description_p = rule.description
        $0.legalSource = rule.source
        switch rule.basis {
        case .perCopy(let unit): $0.perCopyVnd = unit
        case .perPage(let document, let firstPages, let first, let later, let cap):
          $0.perPage = .with {
            $0.documentID = document
            $0.firstPages = Int32(clamping: firstPages)
            $0.firstPageVnd = first
            $0.laterPageVnd = later
            $0.capVnd = cap ?? 0
          }
        }
      }
    }
    self.postalEligible = procedure.postalEligible
    self.inPersonOnly = procedure.inPersonOnly
    self.sameDay = procedure.sameDay
    self.catalogVersion = catalog.version
    self.competence = procedure.competence.map { competence in
      .with {
        $0.level = competence.level.proto
        $0.authority = competence.authority
        $0.legalSource = competence.source
        $0.agencies = competence.agencies.map { code in
          // The catalog checked that the directory lists every agency.
          let listing = catalog.directory[code]
          return .with {
            $0.code = code.rawValue
            $0.name = listing?.name ?? ""
            $0.communeCode = listing?.commune?.rawValue ?? ""
          }
        }
      }
    }
  }
}

extension GovernmentLevel {
  var proto: Postalgateway_V1_GovernmentLevel {
    switch self {
    case .province: .province
    case .commune: .commune
    }
  }
}
