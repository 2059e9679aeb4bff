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
    let inputs = self.timekeeper?.inputs
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
      let byProxy = shipment.applicant.authorizedPerson != nil
      let checklist = Set(
        DossierCheck.checklist(for: procedure, authorizedPerson: byProxy).map(\.id)
      )
      var violations: [TrackingError.FieldViolation] = []
      for (index, item) in recording.items.enumerated() where !checklist.contains(item.documentID) {
        violations.append(
          .init(
            field: "items[\(index)].document_id",
            reason: "is not in the published list of \(procedure.code)"
          )
        )
      }
      if !violations.isEmpty { throw TrackingError.invalidArgument(violations) }
      let missing = DossierCheck.missingItems(
        recording.items,
        for: procedure,
        authorizedPerson: byProxy
      )
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
      let quote = procedure.feeQuote(items: recording.items, copies: recording.copies)
      guard recording.feeCollectedVND == quote.totalVND || recording.feeCollectedVND == 0 else {
        throw TrackingError.invalidField(
          "fee_collected_vnd",
          "must be the procedure's fee for this dossier (\(quote.totalVND) VND), or 0 when paid to the agency directly"
        )
      }
      let postageLine = try Self.postageLine(
        recording.postageVND,
        for: shipment,
        tariff: catalog.postage,
        inputs: inputs
      )
      let collection = DossierCollection(
        catalogVersion: catalog.version,
        items: recording.items,
        sealID: seal.rawValue,
        feeCollectedVND: recording.feeCollectedVND,
        postageVND: recording.postageVND,
        receiptID: "\(shipment.trackingNumber.rawValue)-BL\(shipment.version + 1)",
        copies: recording.copies,
        feeLines: recording.feeCollectedVND == 0 ? [] : quote.lines,
        postageLine: postageLine
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

  /// With a postage tariff in the catalog, the postage must be the tariff's for the shipment's
  /// service on its dossier leg's route class; the receipt then shows it as a line.
  static func postageLine(
    _ postage: Int64,
    for shipment: Shipment,
    tariff: PostageTariff?,
    inputs: SlaInputs?
  ) throws -> FeeLine? {
    guard let tariff, let inputs else { return nil }
    let (route, _) = inputs.dossierRoute(of: shipment)
    guard let line = tariff.line(for: shipment.serviceType, on: route) else {
      throw TrackingError(
        code: .failedPrecondition,
        message:
          "postage tariff \(tariff.version) has no price for \(shipment.serviceType.rawValue) on route \(route.rawValue)"
      )
    }
    guard postage == line.amountVND else {
      throw TrackingError.invalidField(
        "postage_vnd",
        "must be the posted postage for \(shipment.serviceType.rawValue) on route \(route.rawValue): \(line.amountVND) VND (tariff \(tariff.version))"
      )
    }
    return line
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
    try await self.appendItem(
      to: recording.trackingNumber,
      documentID: recording.documentID,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now,
      isSame: { $0.sha256 == recording.sha256 },
      make: { code in
        Scan(
          documentID: recording.documentID,
          documentCode: code,
          sha256: recording.sha256,
          size: recording.size,
          contentType: recording.contentType
        )
      }
    )
  }

  /// Appends the record of a dossier item (`SCANNED`, and `DIGITIZED` after the last missing
  /// one) unless a record of the same item that `isSame` accepts is already there.
  /// - Parameters:
  ///   - check: More checks of the shipment inside the write, after the item's.
  ///   - isSame: Whether a record of this item is the one being made.
  ///   - make: The record, given its new document code `<tracking number>-<document id>-<n>`.
  /// - Returns: The events appended (none for a repeat) and the record.
  func appendItem(
    to number: TrackingNumber,
    documentID: String,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp,
    check: @escaping @Sendable (Shipment) throws -> Void = { _ in },
    isSame: @escaping @Sendable (Scan) -> Bool,
    make: @escaping @Sendable (_ documentCode: String) -> Scan
  ) async throws -> (RecordedEvent?, Scan) {
    let routes = self.routes.current
    let matches: @Sendable (Scan) -> Bool = { $0.documentID == documentID && isSame($0) }
    let outcome = try await self.appendEvents(
      to: number,
      context: EventContext(),
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      let shipment = stored.shipment
      try Self.checkScan(of: documentID, in: shipment)
      try check(shipment)
      if shipment.scans.contains(where: matches) { return [] }
      let previous = shipment.scans.filter { $0.documentID == documentID }.count
      let scan = make("\(shipment.trackingNumber.rawValue)-\(documentID)-\(previous + 1)")
      var events = [PlannedEvent(.scanned, .scan(scan))]
      if shipment.state == .collected, shipment.unscannedDocumentIDs == [documentID] {
        // Queued in this same write: the store inserts the outbox row with the event.
        events.append(
          PlannedEvent(.digitized, routes.ticket(for: shipment).map { .handoffQueued($0) })
        )
      }
      return events
    }
    guard let scan = outcome.shipment.scans.last(where: matches) else {
      preconditionFailure("the decision above appended or found this item")
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
