import Tracking

/// How event details are kept in the `payload` column: versioned JSON of plain values. The
/// domain types stay free of any storage format; this file is the one mapping.
enum EventPayload: Codable, Equatable {
  struct Item: Codable, Equatable {
    var document: String
    var form: String
    var pages: Int
  }

  struct Missing: Codable, Equatable {
    var document: String
    var name: String
    var form: String
    var quantity: Int
    /// Added in v7 (one-of groups); absent before.
    var alternatives: [String]?
  }

  struct Collection: Codable, Equatable {
    var catalogVersion: String
    var items: [Item]
    var seal: String
    var fee: Int64
    var postage: Int64
    var receipt: String
    /// Added in v7 (fees per copy or page); absent before, meaning 1 and no lines.
    var copies: Int?
    var feeLines: [FeeLine]?
    var postageLine: FeeLine?
  }

  struct Guidance: Codable, Equatable {
    var catalogVersion: String
    var items: [Item]
    var missing: [Missing]
  }

  struct Scan: Codable, Equatable {
    var document: String
    var code: String
    var sha256: String
    var size: Int64
    var contentType: String
    /// Absent in payloads written before papers could be reused.
    var reusedFrom: String?
  }

  struct Result: Codable, Equatable {
    var documents: [String]
    var originalsToReturn: [String]
    var papersToRecall: [String]
    var feeToCollect: Int64
    var seal: String
  }

  struct Proof: Codable, Equatable {
    var recipientName: String
    var identityType: String
    var identityNumberHash: String
    var identityNumberMasked: String
    var authorizationReference: String?
    var signatureSHA256: String
    var photoSHA256: String?
    var papersRecalled: [String]
    var feesCollected: Int64
  }

  struct Delivery: Codable, Equatable {
    var proof: Proof?
    var failure: String?
  }

  struct Damage: Codable, Equatable {
    var inventory: [String]
    var newSeal: String
  }

  struct Correction: Codable, Equatable {
    var voided: Int
    var reason: String
  }

  struct HandoffQueued: Codable, Equatable {
    var handoff: String
    var agency: String
    var mode: String
  }

  struct Decision: Codable, Equatable {
    var handoff: String
    var channel: String
    var dossierCode: String?
    var receivedAt: Int64?
    var appointment: String?
    var rejection: String?
  }

  struct Supplement: Codable, Equatable {
    var missing: [String]
    var reason: String
    /// Each item's own reason (absent in payloads written before items had reasons).
    var itemReasons: [String]?
  }

  struct Extension: Codable, Equatable {
    var previousDue: String
    var newDue: String
    var reason: String
    var apology: String
  }

  /// The applicant as corrected (kept only inside the sealed payload).
  struct PersonalDataCorrected: Codable, Equatable {
    var fields: [String]
    var reason: String
    var province: String
    var commune: String
    var personal: PersonalFields
  }

  struct ResultNotice: Codable, Equatable {
    var documents: [String]
    var originalsToReturn: [String]
    var papersToRecall: [String]
    var feeToCollect: Int64
    var collectAt: String
  }

  case collection(Collection)
  case guidance(Guidance)
  case scan(Scan)
  case result(Result)
  case delivery(Delivery)
  case damage(Damage)
  case correction(Correction)
  case handoffQueued(HandoffQueued)
  case decision(Decision)
  case supplement(Supplement)
  case resultNotice(ResultNotice)
  case processingExtension(Extension)
  case appointment(String)
  case personalDataCorrection(PersonalDataCorrected)

  init(_ details: EventDetails) {
    switch details {
    case .collection(let c):
      self = .collection(
        Collection(
          catalogVersion: c.catalogVersion,
          items: c.items.map(Item.init),
          seal: c.sealID,
          fee: c.feeCollectedVND,
          postage: c.postageVND,
          receipt: c.receiptID,
          copies: c.copies == 1 ? nil : c.copies,
          feeLines: c.feeLines.isEmpty ? nil : c.feeLines,
          postageLine: c.postageLine
        )
      )
    case .guidance(let g):
      self = .guidance(
        Guidance(
          catalogVersion: g.catalogVersion,
          items: g.items.map(Item.init),
          missing: g.missing.map {
            Missing(
              document: $0.documentID,
              name: $0.name,
              form: $0.form.rawValue,
              quantity: $0.quantity,
              alternatives: $0.alternatives.isEmpty ? nil : $0.alternatives
            )
          }
        )
      )
    case .scan(let s):
      self = .scan(
        Scan(
          document: s.documentID,
          code: s.documentCode,
          sha256: s.sha256,
          size: s.size,
          contentType: s.contentType.rawValue,
          reusedFrom: s.reusedFrom
        )
      )
    case .resultCollection(let r):
      self = .result(
        Result(
          documents: r.documents,
          originalsToReturn: r.originalsToReturn,
          papersToRecall: r.papersToRecall,
          feeToCollect: r.feeToCollectVND,
          seal: r.sealID
        )
      )
    case .delivery(.failed(let reason)):
      self = .delivery(Delivery(proof: nil, failure: reason.rawValue))
    case .delivery(.delivered(let p)):
      self = .delivery(
        Delivery(
          proof: Proof(
            recipientName: p.recipientName.rawValue,
            identityType: p.identityType.rawValue,
            identityNumberHash: p.identityNumberHash,
            identityNumberMasked: p.identityNumberMasked,
            authorizationReference: p.authorizationReference,
            signatureSHA256: p.signatureSHA256,
            photoSHA256: p.photoSHA256,
            papersRecalled: p.papersRecalled,
            feesCollected: p.feesCollectedVND
          ),
          failure: nil
        )
      )
    case .damage(let d):
      self = .damage(Damage(inventory: d.inventory, newSeal: d.newSealID))
    case .correction(let c):
      self = .correction(Correction(voided: c.voidedSequence, reason: c.reason))
    case .handoffQueued(let t):
      self = .handoffQueued(
        HandoffQueued(handoff: t.handoffID, agency: t.agency.rawValue, mode: t.mode.rawValue)
      )
    case .agencyDecision(let d):
      var decision = Decision(handoff: d.handoffID, channel: d.channel.rawValue)
      switch d.outcome {
      case .accepted(let a):
        decision.dossierCode = a.dossierCode.rawValue
        decision.receivedAt = a.receivedAt.microseconds
        decision.appointment = a.appointmentDate?.description
      case .rejected(let reason):
        decision.rejection = reason
      }
      self = .decision(decision)
    case .supplement(let r):
      self = .supplement(
        Supplement(
          missing: r.missingItems,
          reason: r.reason,
          itemReasons: r.items.contains { !$0.reason.isEmpty } ? r.items.map(\.reason) : nil
        )
      )
    case .appointment(let date):
      self = .appointment(date.description)
    case .processingExtension(let e):
      self = .processingExtension(
        Extension(
          previousDue: e.previousDueDate.description,
          newDue: e.newDueDate.description,
          reason: e.reason,
          apology: e.apology
        )
      )
    case .resultNotice(let n):
      self = .resultNotice(
        ResultNotice(
          documents: n.documents,
          originalsToReturn: n.originalsToReturn,
          papersToRecall: n.papersToRecall,
          feeToCollect: n.feeToCollectVND,
          collectAt: n.collectAt
        )
      )
    case .personalDataCorrection(let c):
      self = .personalDataCorrection(
        PersonalDataCorrected(
          fields: c.fields,
          reason: c.reason,
          province: c.applicant.address.province.rawValue,
          commune: c.applicant.address.commune.rawValue,
          personal: PersonalFields(applicant: c.applicant)
        )
      )
    }
  }

  /// The domain value; throws ``Corruption`` for values the domain refuses.
  func details() throws -> EventDetails {
    switch self {
    case .collection(let c):
      return .collection(
        DossierCollection(
          catalogVersion: c.catalogVersion,
          items: try c.items.map { try $0.domain() },
          sealID: c.seal,
          feeCollectedVND: c.fee,
          postageVND: c.postage,
          receiptID: c.receipt,
          copies: c.copies ?? 1,
          feeLines: c.feeLines ?? [],
          postageLine: c.postageLine
        )
      )
    case .guidance(let g):
      return .guidance(
        Tracking.Guidance(
          catalogVersion: g.catalogVersion,
          items: try g.items.map { try $0.domain() },
          missing: try g.missing.map {
            MissingItem(
              documentID: $0.document,
              name: $0.name,
              form: try Self.decode($0.form),
              quantity: $0.quantity,
              alternatives: $0.alternatives ?? []
            )
          }
        )
      )
    case .scan(let s):
      return .scan(
        Tracking.Scan(
          documentID: s.document,
          documentCode: s.code,
          sha256: s.sha256,
          size: s.size,
          contentType: try Self.decode(s.contentType),
          reusedFrom: s.reusedFrom
        )
      )
    case .result(let r):
      return .resultCollection(
        ResultCollection(
          documents: r.documents,
          originalsToReturn: r.originalsToReturn,
          papersToRecall: r.papersToRecall,
          feeToCollectVND: r.feeToCollect,
          sealID: r.seal
        )
      )
    case .delivery(let d):
      if let failure = d.failure { return .delivery(.failed(try Self.decode(failure))) }
      guard let p = d.proof else { throw Corruption("a delivery payload without proof or failure") }
      return .delivery(
        .delivered(
          ProofOfDelivery(
            recipientName: try PersonName(validating: p.recipientName),
            identityType: try Self.decode(p.identityType),
            identityNumberHash: p.identityNumberHash,
            identityNumberMasked: p.identityNumberMasked,
            authorizationReference: p.authorizationReference,
            signatureSHA256: p.signatureSHA256,
            photoSHA256: p.photoSHA256,
            papersRecalled: p.papersRecalled,
            feesCollectedVND: p.feesCollected
          )
        )
      )
    case .damage(let d):
      return .damage(DamageReport(inventory: d.inventory, newSealID: d.newSeal))
    case .correction(let c):
      return .correction(Tracking.Correction(voidedSequence: c.voided, reason: c.reason))
    case .handoffQueued(let t):
      return .handoffQueued(
        HandoffTicket(
          handoffID: t.handoff,
          agency: try AgencyCode(validating: t.agency),
          mode: try Self.decode(t.mode)
        )
      )
    case .decision(let d):
      let outcome: AgencyDecision.Outcome
      if let rejection = d.rejection {
        outcome = .rejected(reason: rejection)
      } else {
        guard let code = d.dossierCode, let received = d.receivedAt else {
          throw Corruption("an agency decision without a dossier code or a rejection")
        }
        outcome = .accepted(
          AgencyAcceptance(
            dossierCode: try DossierCode(validating: code),
            receivedAt: Timestamp(microseconds: received),
            appointmentDate: try d.appointment.map { try CivilDate(iso: $0) }
          )
        )
      }
      return .agencyDecision(
        AgencyDecision(handoffID: d.handoff, channel: try Self.decode(d.channel), outcome: outcome)
      )
    case .supplement(let r):
      let reasons = r.itemReasons ?? []
      return .supplement(
        SupplementRequest(
          items: r.missing.enumerated().map { index, document in
            SupplementItem(document: document, reason: index < reasons.count ? reasons[index] : "")
          },
          reason: r.reason
        )
      )
    case .appointment(let date):
      return .appointment(try CivilDate(iso: date))
    case .processingExtension(let e):
      return .processingExtension(
        ProcessingExtension(
          previousDueDate: try CivilDate(iso: e.previousDue),
          newDueDate: try CivilDate(iso: e.newDue),
          reason: e.reason,
          apology: e.apology
        )
      )
    case .resultNotice(let n):
      return .resultNotice(
        Tracking.ResultNotice(
          documents: n.documents,
          originalsToReturn: n.originalsToReturn,
          papersToRecall: n.papersToRecall,
          feeToCollectVND: n.feeToCollect,
          collectAt: n.collectAt
        )
      )
    case .personalDataCorrection(let c):
      return .personalDataCorrection(
        Tracking.PersonalDataCorrection(
          fields: c.fields,
          reason: c.reason,
          applicant: try c.personal.applicant(province: c.province, commune: c.commune)
        )
      )
    }
  }

  static func decode<E: RawRepresentable>(_ raw: String) throws -> E where E.RawValue == String {
    guard let value = E(rawValue: raw) else { throw Corruption("unknown \(E.self) \(raw)") }
    return value
  }
}

extension EventPayload.Item {
  init(_ item: HandedOverItem) {
    self.init(document: item.documentID, form: item.form.rawValue, pages: item.pages)
  }

  func domain() throws -> HandedOverItem {
    HandedOverItem(
      documentID: self.document,
      form: try EventPayload.decode(self.form),
      pages: self.pages
    )
  }
}

/// How a handover's signatures are kept in the `handover` column.
struct HandoverPayload: Codable, Equatable {
  var giver: String
  var receiver: String
  var statement: String
  var giverKey: String
  var giverSignature: String
  var receiverKey: String
  var receiverSignature: String

  init(_ record: HandoverRecord) {
    self.giver = record.giver
    self.receiver = record.receiver
    self.statement = record.statementSHA256
    self.giverKey = record.giverKeyID
    self.giverSignature = Base64.encode(record.giverSignature)
    self.receiverKey = record.receiverKeyID
    self.receiverSignature = Base64.encode(record.receiverSignature)
  }

  func record() throws -> HandoverRecord {
    guard let giver = Base64.decode(self.giverSignature),
      let receiver = Base64.decode(self.receiverSignature)
    else {
      throw Corruption("a handover signature is not base64")
    }
    return HandoverRecord(
      giver: self.giver,
      receiver: self.receiver,
      statementSHA256: self.statement,
      giverKeyID: self.giverKey,
      giverSignature: giver,
      receiverKeyID: self.receiverKey,
      receiverSignature: receiver
    )
  }
}
