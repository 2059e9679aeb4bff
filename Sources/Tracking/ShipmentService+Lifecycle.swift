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
  /// When, where, why.
  public var context: EventContext

  /// Creates a recording.
  public init(
    trackingNumber: TrackingNumber,
    items: [HandedOverItem],
    sealID: SealID?,
    feeCollectedVND: Int64,
    postageVND: Int64,
    context: EventContext = EventContext()
  ) {
    self.trackingNumber = trackingNumber
    self.items = items
    self.sealID = sealID
    self.feeCollectedVND = feeCollectedVND
    self.postageVND = postageVND
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

extension ShipmentService {
  /// Count and check at collection (QĐ 45 art. 6): a complete dossier becomes `COLLECTED` with
  /// its documents, seal, fee and postage and gets a receipt id; an incomplete one becomes
  /// `INCOMPLETE_GUIDED` with the missing published items as guidance.
  /// - Throws: ``TrackingError``: `.invalidArgument` for an item outside the published list, a
  ///   missing seal or a wrong fee; `.failedPrecondition` when the procedure left the catalog;
  ///   `.illegalTransition`; `.notFound`; `.requestIDReused`; `.storageFailure`.
  public func recordCollection(
    _ recording: CollectionRecording,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> (RecordedEvent, [MissingItem]) {
    let catalog = self.catalog.current
    let recorded = try await self.append(
      to: recording.trackingNumber,
      context: recording.context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      let shipment = stored.shipment
      guard let procedure = catalog.procedure(shipment.procedure) else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "procedure \(shipment.procedure) is not in catalog version \(catalog.version)"
        )
      }
      var violations: [TrackingError.FieldViolation] = []
      for (index, item) in recording.items.enumerated()
      where procedure.document(item.documentID) == nil {
        violations.append(
          .init(
            field: "items[\(index)].document_id",
            reason: "is not in the published list of \(procedure.code)"
          )
        )
      }
      if !violations.isEmpty { throw TrackingError.invalidArgument(violations) }
      let missing = DossierCheck.missingItems(recording.items, for: procedure)
      guard missing.isEmpty else {
        return [
          PlannedEvent(
            .guidedIncomplete,
            .guidance(
              Guidance(catalogVersion: catalog.version, items: recording.items, missing: missing)
            )
          )
        ]
      }
      guard let seal = recording.sealID else {
        throw TrackingError.invalidField("seal_id", "is required for a complete dossier")
      }
      guard recording.feeCollectedVND == procedure.feeVND || recording.feeCollectedVND == 0 else {
        throw TrackingError.invalidField(
          "fee_collected_vnd",
          "must be the procedure's fee (\(procedure.feeVND) VND), or 0 when paid to the agency directly"
        )
      }
      let collection = DossierCollection(
        catalogVersion: catalog.version,
        items: recording.items,
        sealID: seal.rawValue,
        feeCollectedVND: recording.feeCollectedVND,
        postageVND: recording.postageVND,
        receiptID: "\(shipment.trackingNumber.rawValue)-BL\(shipment.version + 1)"
      )
      return [PlannedEvent(.collected, .collection(collection))]
    }
    let missing: [MissingItem]
    if case .guidance(let guidance) = recorded.event.details {
      missing = guidance.missing
    } else {
      missing = []
    }
    return (recorded, missing)
  }

  /// Whether a scan of this item may be recorded now: the item was handed over and the dossier is
  /// collected (and not yet dispatched). Checked before the upload is read, and again when it is
  /// recorded.
  /// - Throws: ``TrackingError`` `.notFound`, `.invalidArgument` (`document_id`) or
  ///   `.illegalTransition`.
  public func checkScanAllowed(_ number: TrackingNumber, documentID: String) async throws {
    let shipment = try await self.shipment(number)
    try Self.checkScan(of: documentID, in: shipment)
  }

  static func checkScan(of documentID: String, in shipment: Shipment) throws {
    guard
      ShipmentLifecycle.target(
        from: shipment.state,
        on: .scanned,
        serviceType: shipment.serviceType
      ) != nil
    else { throw TrackingError.illegalTransition(.scanned, in: shipment.state) }
    guard shipment.collection?.items.contains(where: { $0.documentID == documentID }) == true else {
      throw TrackingError.invalidField("document_id", "was not handed over with this dossier")
    }
  }

  /// Records a stored scan of a dossier item; the last missing item's scan also moves the
  /// shipment to `DIGITIZED`. A scan of the same item with the same content is recorded once.
  /// - Returns: The events appended (none for a repeated scan) and the scan record.
  public func recordScan(
    _ recording: ScanRecording,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> (RecordedEvent?, Scan) {
    let routes = self.routes
    let outcome = try await self.appendEvents(
      to: recording.trackingNumber,
      context: EventContext(),
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      let shipment = stored.shipment
      try Self.checkScan(of: recording.documentID, in: shipment)
      if shipment.scans.contains(where: {
        $0.documentID == recording.documentID && $0.sha256 == recording.sha256
      }) {
        return []
      }
      let previous = shipment.scans.filter { $0.documentID == recording.documentID }.count
      let scan = Scan(
        documentID: recording.documentID,
        documentCode: "\(shipment.trackingNumber.rawValue)-\(recording.documentID)-\(previous + 1)",
        sha256: recording.sha256,
        size: recording.size,
        contentType: recording.contentType
      )
      var events = [PlannedEvent(.scanned, .scan(scan))]
      if shipment.state == .collected, shipment.unscannedDocumentIDs == [recording.documentID] {
        // Queued in this same write: the store inserts the outbox row with the event.
        events.append(
          PlannedEvent(.digitized, routes.ticket(for: shipment).map { .handoffQueued($0) })
        )
      }
      return events
    }
    let shipment = outcome.shipment
    guard
      let scan = shipment.scans.last(where: {
        $0.documentID == recording.documentID && $0.sha256 == recording.sha256
      })
    else {
      preconditionFailure("the decision above appended or found this scan")
    }
    return (outcome.events.isEmpty ? nil : outcome, scan)
  }

  /// The courier took the result at the agency (QĐ 45 art. 9): a handover from the agency,
  /// co-signed by the agency (giver) and the courier (receiver) over the handover statement.
  /// For a refused dossier (`REJECTED_BY_AGENCY`) the same call starts the return leg
  /// (`RETURN_COLLECTED`): the originals and the refusal notice, co-signed in the same way when
  /// the agency holds the papers, without a handover when they never left the post.
  /// - Throws: ``TrackingError`` `.invalidArgument` (no handover where one is needed, no
  ///   `occurred_at`), `.permissionDenied` (unknown key, bad signature), `.illegalTransition`,
  ///   `.notFound`, `.requestIDReused`, `.storageFailure`.
  public func recordResultCollected(
    _ number: TrackingNumber,
    result: ResultCollection,
    handover: HandoverInput?,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    // The kind decides the statement both parties sign; the write checks the state again.
    let before = try await self.shipment(number)
    let kind: EventKind = before.state == .rejectedByAgency ? .returnCollected : .resultCollected
    let needsHandover = kind == .resultCollected || before.papersAreAtAgency
    let check =
      needsHandover || handover != nil
      ? try await self.prepareHandover(
        kind,
        handover,
        context: context,
        actor: actor,
        now: now
      ) : nil
    return try await self.append(
      to: number,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      [
        PlannedEvent(
          kind,
          .resultCollection(result),
          handover: try check?(stored.shipment, result.sealID)
        )
      ]
    }
  }

  /// Checks a handover's parties and keys before the write; the returned closure checks the
  /// signatures against the shipment inside it.
  func prepareHandover(
    _ kind: EventKind,
    _ input: HandoverInput?,
    context: EventContext,
    actor: Actor,
    now: Timestamp
  ) async throws -> @Sendable (Shipment, String?) throws -> HandoverRecord {
    guard let input else {
      throw TrackingError.invalidField(
        "handover",
        "a \(kind.rawValue) handover needs both parties' signatures"
      )
    }
    guard let occurredAt = context.occurredAt else {
      throw TrackingError.invalidField(
        "occurred_at",
        "is required for a handover: both parties sign it"
      )
    }
    _ = try Self.occurredAt(context, now: now)
    return try await self.handovers.prepare(
      kind: kind,
      input: input,
      actor: actor,
      occurredAt: occurredAt
    )
  }

  /// One delivery attempt: `DELIVERED` with proof (the identity number is kept only as a keyed
  /// hash and a masked form), or `DELIVERY_FAILED` with a reason.
  /// - Throws: ``TrackingError`` `.invalidArgument` when the proof misses papers to recall or the
  ///   fee to collect; `.illegalTransition`; `.notFound`; `.requestIDReused`; `.storageFailure`.
  public func recordDeliveryAttempt(
    _ number: TrackingNumber,
    report: DeliveryReport,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    let attempt: DeliveryAttempt
    switch report {
    case .failed(let reason):
      attempt = .failed(reason)
    case .delivered(let proof):
      attempt = .delivered(
        ProofOfDelivery(
          recipientName: proof.recipientName,
          identityType: proof.identityType,
          identityNumberHash: self.personalData.hash(
            proof.identityNumber.rawValue,
            purpose: "identity-number"
          ),
          identityNumberMasked: proof.identityNumber.masked,
          authorizationReference: proof.authorizationReference,
          signatureSHA256: proof.signatureSHA256,
          photoSHA256: proof.photoSHA256,
          papersRecalled: proof.papersRecalled,
          feesCollectedVND: proof.feesCollectedVND
        )
      )
    }
    return try await self.append(
      to: number,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      let shipment = stored.shipment
      switch attempt {
      case .failed:
        return [PlannedEvent(.deliveryFailed, .delivery(attempt))]
      case .delivered(let proof):
        if let result = shipment.resultCollection {
          let missing = Set(result.papersToRecall).subtracting(proof.papersRecalled)
          guard missing.isEmpty else {
            throw TrackingError.invalidField(
              "proof.papers_recalled",
              "must include every paper the agency asked to recall (\(missing.count) missing)"
            )
          }
          guard proof.feesCollectedVND == result.feeToCollectVND else {
            throw TrackingError.invalidField(
              "proof.fees_collected_vnd",
              "must be the fee the agency asked to collect (\(result.feeToCollectVND) VND)"
            )
          }
        }
        return [PlannedEvent(.delivered, .delivery(attempt))]
      }
    }
  }

  /// Damage found: inventory taken, envelope re-wrapped under a new seal (TT 17 art. 11).
  public func recordDamage(
    _ number: TrackingNumber,
    report: DamageReport,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    try await self.append(
      to: number,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { _ in [PlannedEvent(.damaged, .damage(report))] }
  }

  /// Voids a wrongly recorded event. Nothing is edited: a `CORRECTION` event names the voided one
  /// and the state is recomputed from the remaining history.
  /// - Throws: ``TrackingError`` `.invalidArgument` (`sequence`) for the registration, a
  ///   correction, an unknown or already voided event; `.illegalTransition` when later events
  ///   depend on it; `.notFound`; `.requestIDReused`; `.storageFailure`.
  public func correctEvent(
    _ number: TrackingNumber,
    voiding sequence: Int,
    reason: BoundedText,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    let occurredAt = try Self.occurredAt(context, now: now)
    let location = try Self.location(context, actor: actor)
    return try await self.commitEvents(to: number, idempotencyKey: idempotencyKey, now: now) {
      stored in
      let shipment = stored.shipment
      guard let target = shipment.events.first(where: { $0.sequence == sequence }) else {
        throw TrackingError.invalidField("sequence", "no event \(sequence) in this shipment")
      }
      guard target.kind != .registered, target.kind != .correction else {
        throw TrackingError.invalidField(
          "sequence",
          "a \(target.kind.rawValue) event cannot be voided"
        )
      }
      if target.kind.isAgencyDecision {
        throw TrackingError.invalidField("sequence", "the agency's decisions are its own record")
      }
      if case .handoffQueued = target.details {
        throw TrackingError.invalidField(
          "sequence",
          "the event queued an electronic handoff to the agency"
        )
      }
      guard !shipment.voidedSequences.contains(sequence) else {
        throw TrackingError.invalidField("sequence", "event \(sequence) is already voided")
      }
      let state = try shipment.replayedState(voiding: sequence)
      return [
        ShipmentEvent(
          sequence: shipment.version + 1,
          kind: .correction,
          fromState: shipment.state,
          toState: state,
          occurredAt: occurredAt,
          recordedAt: now,
          actor: actor.id,
          location: location,
          note: context.note.flatMap { $0.rawValue.isEmpty ? nil : $0.rawValue },
          details: .correction(Correction(voidedSequence: sequence, reason: reason.rawValue))
        )
      ]
    }
  }
}
