import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

// The one place where handoff messages and domain values meet.

extension HandoffMode {
  var proto: Postalgateway_V1_HandoffMode {
    switch self {
    case .push: .push
    case .pull: .pull
    }
  }
}

extension HandoffStatus {
  init?(_ proto: Postalgateway_V1_HandoffStatus) {
    switch proto {
    case .pending: self = .pending
    case .accepted: self = .accepted
    case .rejected: self = .rejected
    case .dead: self = .dead
    default: return nil
    }
  }

  var proto: Postalgateway_V1_HandoffStatus {
    switch self {
    case .pending: .pending
    case .accepted: .accepted
    case .rejected: .rejected
    case .dead: .dead
    }
  }
}

extension Postalgateway_V1_AgencyDecisionDetails {
  init(_ decision: AgencyDecision) {
    self.init()
    self.handoffID = decision.handoffID
    self.channel = decision.channel.proto
    switch decision.outcome {
    case .accepted(let acceptance):
      self.dossierCode = acceptance.dossierCode.rawValue
      self.receivedAt = acceptance.receivedAt.proto
      self.appointmentDate = acceptance.appointmentDate?.description ?? ""
    case .rejected(let reason):
      self.reason = reason
    }
  }
}

extension Postalgateway_V1_DossierPackage {
  /// What the agency receives: the dossier with the applicant in clear (the competent agency is
  /// entitled to it), the papers, the scans to fetch and the fee.
  init(_ shipment: Shipment, handoffID: String, queuedAt: Timestamp) {
    self.init()
    self.handoffID = handoffID
    self.trackingNumber = shipment.trackingNumber.rawValue
    self.agencyCode = shipment.destinationAgency.rawValue
    self.procedureCode = shipment.procedure.rawValue
    self.serviceType = shipment.serviceType.proto
    self.applicant = Postalgateway_V1_Applicant(shipment.applicant)
    if let collection = shipment.collection {
      self.documents = collection.items.map(Postalgateway_V1_HandedOverItem.init)
      self.catalogVersion = collection.catalogVersion
      self.feeCollectedVnd = collection.feeCollectedVND
      self.sealID = collection.sealID
      self.receiptID = collection.receiptID
      self.copies = Int32(clamping: collection.copies)
      self.feeLines = collection.feeLines.map(Postalgateway_V1_FeeLine.init)
    }
    if let collected = shipment.effectiveEvents.last(where: { $0.kind == .collected }) {
      self.collectedAt = collected.occurredAt.proto
    }
    self.scans = shipment.scans.map { scan in
      .with {
        $0.documentID = scan.documentID
        $0.documentCode = scan.documentCode
        $0.sha256 = scan.sha256
        $0.size = scan.size
        $0.contentType = scan.contentType.proto
      }
    }
    self.originPostOfficeCode = shipment.originPostOffice.rawValue
    self.queuedAt = queuedAt.proto
  }
}

extension Postalgateway_V1_IntakeAccepted {
  /// The acceptance, its fields checked; `prefix` is the field path for errors.
  func domain(prefix: String, validator v: inout RequestValidator) -> AgencyAcceptance? {
    let code = v.check("\(prefix).dossier_code") {
      try DossierCode(validating: self.dossierCode)
    }
    var receivedAt: Timestamp?
    if !self.hasReceivedAt {
      v.fail("\(prefix).received_at", "is required: it is the legal filing time")
    } else {
      receivedAt = v.check("\(prefix).received_at") { try Timestamp(self.receivedAt) }
    }
    var appointment: CivilDate?
    if !self.appointmentDate.isEmpty {
      appointment = v.check("\(prefix).appointment_date") {
        try CivilDate(iso: self.appointmentDate)
      }
    }
    guard let code, let receivedAt else { return nil }
    return AgencyAcceptance(dossierCode: code, receivedAt: receivedAt, appointmentDate: appointment)
  }
}

/// The decision an `IntakeAccepted` or `IntakeRejected` carries (push receipt and pull
/// acknowledgement alike); `oneof` names the field when neither is set.
private func decisionOutcome(
  _ accepted: Postalgateway_V1_IntakeAccepted?,
  _ rejected: Postalgateway_V1_IntakeRejected?,
  oneof: String,
  _ v: inout RequestValidator
) -> AgencyDecision.Outcome? {
  if let accepted {
    return accepted.domain(prefix: "accepted", validator: &v).map { .accepted($0) }
  }
  if let rejected {
    return v.text("rejected.reason", rejected.reason, required: true).map { .rejected(reason: $0) }
  }
  v.fail(oneof, "must be accepted or rejected")
  return nil
}

extension Postalgateway_V1_IntakeReceipt {
  /// The decision a push receipt carries.
  /// - Throws: ``TrackingError`` `.invalidArgument` naming the receipt's bad field.
  func decision(handoffID: String) throws -> AgencyDecision {
    var v = RequestValidator()
    let outcome: AgencyDecision.Outcome?
    switch self.outcome {
    case .accepted(let accepted): outcome = decisionOutcome(accepted, nil, oneof: "outcome", &v)
    case .rejected(let rejected): outcome = decisionOutcome(nil, rejected, oneof: "outcome", &v)
    case nil: outcome = decisionOutcome(nil, nil, oneof: "outcome", &v)
    }
    try v.finish()
    guard let outcome else { throw TrackingError.invalidField("outcome", "is malformed") }
    return AgencyDecision(handoffID: handoffID, channel: .push, outcome: outcome)
  }
}

extension Postalgateway_V1_AcknowledgeHandoffRequest {
  func domain() throws -> (RequestID, AgencyDecision) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    if self.handoffID.isEmpty { v.fail("handoff_id", "is required") }
    let outcome: AgencyDecision.Outcome?
    switch self.decision {
    case .accepted(let accepted): outcome = decisionOutcome(accepted, nil, oneof: "decision", &v)
    case .rejected(let rejected): outcome = decisionOutcome(nil, rejected, oneof: "decision", &v)
    case nil: outcome = decisionOutcome(nil, nil, oneof: "decision", &v)
    }
    try v.finish()
    guard let requestID, let outcome else {
      throw TrackingError.invalidField("decision", "is malformed")
    }
    return (requestID, AgencyDecision(handoffID: self.handoffID, channel: .pull, outcome: outcome))
  }
}

extension Postalgateway_V1_RequestSupplementRequest {
  func domain() throws -> (RequestID, TrackingNumber, SupplementRequest) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") {
      try TrackingNumber(validating: self.trackingNumber)
    }
    if self.missingItems.isEmpty, self.items.isEmpty {
      v.fail("items", "needs at least one paper (items or missing_items)")
    }
    let names = textList(self.missingItems, field: "missing_items", required: false, validator: &v)
    if self.items.count > 50 { v.fail("items", "has more than 50 entries") }
    var items = names.map { SupplementItem(document: $0, reason: "") }
    for (index, item) in self.items.prefix(50).enumerated() {
      let document = v.text(
        "items[\(index)].document",
        item.document,
        required: true,
        maximumLength: 200
      )
      // Each paper says why (TT 01/2018 form 02 lists them with their reasons).
      let why = v.text("items[\(index)].reason", item.reason, required: true, maximumLength: 500)
      if let document, let why { items.append(SupplementItem(document: document, reason: why)) }
    }
    // The overall reason is needed when the papers come without their own.
    let reason = v.text("reason", self.reason, required: self.items.isEmpty)
    try v.finish()
    guard let requestID, let number else {
      throw TrackingError.invalidField("request", "is malformed")
    }
    return (requestID, number, SupplementRequest(items: items, reason: reason ?? ""))
  }
}

extension Postalgateway_V1_ExtendProcessingRequest {
  func domain() throws -> (
    RequestID, TrackingNumber, newDue: CivilDate, reason: String, apology: String
  ) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") {
      try TrackingNumber(validating: self.trackingNumber)
    }
    let newDue = v.check("new_due_date") { try CivilDate(iso: self.newDueDate) }
    let reason = v.text("reason", self.reason, required: true)
    let apology = v.text("apology", self.apology, required: true)
    try v.finish()
    guard let requestID, let number, let newDue, let reason, let apology else {
      throw TrackingError.invalidField("request", "is malformed")
    }
    return (requestID, number, newDue, reason, apology)
  }
}

extension Postalgateway_V1_ReportResultReadyRequest {
  func domain() throws -> (RequestID, TrackingNumber, ResultNotice) {
    var v = RequestValidator()
    let requestID = v.check("request_id") { try RequestID(validating: self.requestID) }
    let number = v.check("tracking_number") {
      try TrackingNumber(validating: self.trackingNumber)
    }
    let documents = textList(self.documents, field: "documents", required: true, validator: &v)
    let originals = textList(
      self.originalsToReturn,
      field: "originals_to_return",
      required: false,
      validator: &v
    )
    let recall = textList(
      self.papersToRecall,
      field: "papers_to_recall",
      required: false,
      validator: &v
    )
    if self.feeToCollectVnd < 0 { v.fail("fee_to_collect_vnd", "must not be negative") }
    let collectAt = v.text("collect_at", self.collectAt, required: true)
    try v.finish()
    guard let requestID, let number, let collectAt else {
      throw TrackingError.invalidField("request", "is malformed")
    }
    return (
      requestID, number,
      ResultNotice(
        documents: documents,
        originalsToReturn: originals,
        papersToRecall: recall,
        feeToCollectVND: self.feeToCollectVnd,
        collectAt: collectAt
      )
    )
  }
}

extension Postalgateway_V1_AgencyShipment {
  /// What an agency sees of a shipment: no personal data.
  init(_ shipment: Shipment) {
    self.init()
    self.trackingNumber = shipment.trackingNumber.rawValue
    self.state = shipment.state.proto
    self.normalizedStatus = shipment.state.normalized.proto
    self.handoffID = shipment.handoffTicket?.handoffID ?? ""
    self.dossierCode = shipment.agencyAcceptance?.dossierCode.rawValue ?? ""
    self.version = Int64(shipment.version)
  }
}

extension Postalgateway_V1_Handoff {
  init(_ handoff: Handoff) {
    self.init()
    self.handoffID = handoff.id
    self.trackingNumber = handoff.trackingNumber.rawValue
    self.agencyCode = handoff.agency.rawValue
    self.mode = handoff.mode.proto
    self.status = handoff.status.proto
    self.attempts = Int32(clamping: handoff.attempts)
    self.lastError = handoff.lastError ?? ""
    self.queuedAt = handoff.queuedAt.proto
    if handoff.status == .pending { self.nextAttemptAt = handoff.nextAttemptAt.proto }
    self.cursor = handoff.cursor
  }
}

extension Postalgateway_V1_ChannelStatus {
  init(route: AgencyRoute?, agency: AgencyCode, summary: ChannelSummary?) {
    self.init()
    self.agencyCode = agency.rawValue
    self.mode = route?.mode.proto ?? .unspecified
    self.endpoint = route?.endpoint?.description ?? ""
    let summary = summary ?? ChannelSummary(agency: agency)
    self.queueDepth = Int64(summary.queueDepth)
    self.deadLetters = Int64(summary.deadLetters)
    self.state =
      summary.deadLetters > 0 ? .deadLettered : summary.retrying > 0 ? .retrying : .up
    self.lastError = summary.lastError ?? ""
    if let time = summary.lastSuccessAt { self.lastSuccessAt = time.proto }
    if let time = summary.lastAttemptAt { self.lastAttemptAt = time.proto }
  }
}
