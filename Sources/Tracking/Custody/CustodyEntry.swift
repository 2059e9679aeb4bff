import Crypto

/// The leaf data of the custody log: a canonical, versioned text encoding of one shipment event
/// with no personal data in clear.
///
/// One `key value` line per field, in a fixed order, UTF-8, each ending in `\n`; the first line
/// is `postalgateway.custody.v1`. The shipment is named only by a commitment
/// `SHA-256(salt ‖ tracking number)`; names, ids, phones, addresses and free text appear only as
/// commitments `SHA-256("postalgateway.commitment.v1" ‖ 0 ‖ salt ‖ 0 ‖ field ‖ 0 ‖ value)`. The
/// 16-byte salt is the shipment's own; its receipt carries it, so the holder (and only the holder)
/// can link entries to the shipment and check commitments.
public enum CustodyEntry {
  /// The first line of every entry.
  public static let version = "postalgateway.custody.v1"

  /// The commitment that names a shipment in the log, hex.
  public static func shipmentCommitment(_ number: TrackingNumber, salt: [UInt8]) -> String {
    Self.hex(SHA256.hash(data: salt + Array(number.rawValue.utf8)))
  }

  /// A commitment to a personal or free-text value, hex.
  public static func commitment(_ field: String, _ value: String, salt: [UInt8]) -> String {
    var data = Array("postalgateway.commitment.v1".utf8) + [0]
    data += salt + [0] + Array(field.utf8) + [0] + Array(value.utf8)
    return Self.hex(SHA256.hash(data: data))
  }

  /// The leaf data for an event.
  /// - Parameters:
  ///   - event: The event.
  ///   - shipment: Its shipment (for the registration's facts).
  ///   - salt: The shipment's salt.
  public static func encode(_ event: ShipmentEvent, of shipment: Shipment, salt: [UInt8]) -> [UInt8]
  {
    var lines: [(String, String)] = [
      ("shipment", Self.shipmentCommitment(shipment.trackingNumber, salt: salt)),
      ("sequence", String(event.sequence)),
      ("kind", event.kind.rawValue),
      ("from", event.fromState?.rawValue ?? "-"),
      ("to", event.toState.rawValue),
      ("occurred", event.occurredAt.description),
      ("recorded", event.recordedAt.description),
      ("actor", event.actor),
      ("location", event.location.rawValue),
    ]
    func commit(_ field: String, _ value: String) {
      lines.append((field, Self.commitment(field, value, salt: salt)))
    }
    if event.kind == .registered {
      let applicant = shipment.applicant
      lines.append(("service", shipment.serviceType.rawValue))
      lines.append(("procedure", shipment.procedure.rawValue))
      lines.append(("agency", shipment.destinationAgency.rawValue))
      commit("applicant", applicant.committedValue)
    }
    switch event.details {
    case nil:
      break
    case .collection(let collection):
      lines.append(("catalog", collection.catalogVersion))
      for item in collection.items {
        lines.append(("item", "\(item.documentID) \(item.form.rawValue) \(item.pages)"))
      }
      lines.append(("seal", collection.sealID))
      lines.append(("fee", String(collection.feeCollectedVND)))
      if collection.copies != 1 { lines.append(("copies", String(collection.copies))) }
      for line in collection.feeLines {
        lines.append(
          ("fee-line", "\(line.quantity) \(line.unitVND) \(line.amountVND) \(line.description)")
        )
      }
      lines.append(("postage", String(collection.postageVND)))
      if let line = collection.postageLine {
        lines.append(("postage-line", "\(line.amountVND) \(line.description)"))
      }
      commit("receipt", collection.receiptID)
    case .guidance(let guidance):
      lines.append(("catalog", guidance.catalogVersion))
      for item in guidance.items {
        lines.append(("item", "\(item.documentID) \(item.form.rawValue) \(item.pages)"))
      }
      for missing in guidance.missing {
        lines.append(("missing", "\(missing.documentID) \(missing.quantity)"))
        if !missing.alternatives.isEmpty {
          lines.append(("alternatives", missing.alternatives.joined(separator: " ")))
        }
      }
    case .scan(let scan):
      // The document code embeds the tracking number: committed, like everything that names it.
      lines.append(
        ("scan", "\(scan.documentID) \(scan.sha256) \(scan.size) \(scan.contentType.rawValue)")
      )
      commit("document-code", scan.documentCode)
      // Only for a reused paper: the leaves of scans made before reuse existed are unchanged.
      if let source = scan.reusedFrom { commit("reused-from", source) }
    case .resultCollection(let result):
      for document in result.documents { commit("result-document", document) }
      for original in result.originalsToReturn { commit("original", original) }
      for paper in result.papersToRecall { commit("recall", paper) }
      lines.append(("fee-to-collect", String(result.feeToCollectVND)))
      lines.append(("seal", result.sealID))
    case .delivery(.failed(let reason)):
      lines.append(("failure", reason.rawValue))
    case .delivery(.delivered(let proof)):
      commit("recipient", proof.recipientName.rawValue)
      lines.append(("identity-type", proof.identityType.rawValue))
      lines.append(("identity", proof.identityNumberHash))
      if let reference = proof.authorizationReference { commit("authorization", reference) }
      lines.append(("signature-image", proof.signatureSHA256))
      if let photo = proof.photoSHA256 { lines.append(("photo", photo)) }
      for paper in proof.papersRecalled { commit("recalled", paper) }
      lines.append(("fees-collected", String(proof.feesCollectedVND)))
    case .damage(let damage):
      for line in damage.inventory { commit("inventory", line) }
      lines.append(("seal", damage.newSealID))
    case .correction(let correction):
      lines.append(("voids", String(correction.voidedSequence)))
      commit("reason", correction.reason)
    case .personalDataCorrection(let correction):
      lines.append(("corrected", correction.fields.joined(separator: " ")))
      commit("applicant", correction.applicant.committedValue)
      commit("reason", correction.reason)
    case .handoffQueued(let ticket):
      // The handoff id embeds the tracking number.
      commit("handoff", ticket.handoffID)
      lines.append(("handoff-agency", ticket.agency.rawValue))
      lines.append(("handoff-mode", ticket.mode.rawValue))
    case .agencyDecision(let decision):
      commit("handoff", decision.handoffID)
      lines.append(("channel", decision.channel.rawValue))
      switch decision.outcome {
      case .accepted(let acceptance):
        commit("dossier-code", acceptance.dossierCode.rawValue)
        lines.append(("filed", acceptance.receivedAt.description))
        if let date = acceptance.appointmentDate { lines.append(("appointment", date.description)) }
      case .rejected(let reason):
        commit("rejection", reason)
      }
    case .supplement(let request):
      for item in request.items {
        commit("supplement-item", item.document)
        if !item.reason.isEmpty { commit("supplement-item-reason", item.reason) }
      }
      commit("reason", request.reason)
    case .appointment(let date):
      lines.append(("appointment", date.description))
    case .processingExtension(let extension_):
      lines.append(("previous-due", extension_.previousDueDate.description))
      lines.append(("new-due", extension_.newDueDate.description))
      commit("reason", extension_.reason)
      commit("apology", extension_.apology)
    case .resultNotice(let notice):
      for document in notice.documents { commit("result-document", document) }
      for original in notice.originalsToReturn { commit("original", original) }
      for paper in notice.papersToRecall { commit("recall", paper) }
      lines.append(("fee-to-collect", String(notice.feeToCollectVND)))
      commit("collect-at", notice.collectAt)
    }
    if let handover = event.handover {
      lines.append(("giver", handover.giver))
      lines.append(("receiver", handover.receiver))
      lines.append(("statement", handover.statementSHA256))
      lines.append(
        ("giver-signature", "\(handover.giverKeyID) \(Base64.encode(handover.giverSignature))")
      )
      lines.append(
        (
          "receiver-signature",
          "\(handover.receiverKeyID) \(Base64.encode(handover.receiverSignature))"
        )
      )
    }
    if let note = event.note { commit("note", note) }
    let text = ([Self.version] + lines.map { "\($0.0) \($0.1)" }).joined(separator: "\n") + "\n"
    return Array(text.utf8)
  }

  /// The fields of an entry, in order, or `nil` if it is not a v1 entry.
  public static func fields(_ data: [UInt8]) -> [(String, String)]? {
    let text = String(decoding: data, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.first == Substring(Self.version), lines.last == "" else { return nil }
    lines.removeFirst()
    lines.removeLast()
    var fields: [(String, String)] = []
    for line in lines {
      guard let space = line.firstIndex(of: " ") else { return nil }
      fields.append((String(line[..<space]), String(line[line.index(after: space)...])))
    }
    return fields
  }

  /// SHA-256 of some bytes, hex.
  public static func sha256Hex(_ bytes: [UInt8]) -> String { Self.hex(SHA256.hash(data: bytes)) }

  static func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    var text = ""
    for byte in bytes {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0F)])
    }
    return text
  }
}
