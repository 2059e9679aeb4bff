/// What agency systems do with their dossiers: decide on handoffs, ask for supplements, report
/// results, and read their own dossiers. An agency sees only shipments addressed to it; any
/// other answers exactly like an unknown one.
public struct AgencyDesk: Sendable {
  let shipments: ShipmentService
  let handoffs: any HandoffStore

  /// Creates the desk.
  /// - Parameters:
  ///   - shipments: The shipment use cases (their store and clock rules).
  ///   - handoffs: The handoff outbox.
  public init(shipments: ShipmentService, handoffs: any HandoffStore) {
    self.shipments = shipments
    self.handoffs = handoffs
  }

  /// The scan with this document code, if its shipment is addressed to `agency`.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func scan(
    documentCode: String,
    for agency: AgencyCode
  ) async throws -> (TrackingNumber, Scan)? {
    guard let (number, scan) = try await self.shipments.scan(documentCode: documentCode),
      try await self.shipments.shipment(number).destinationAgency == agency
    else { return nil }
    return (number, scan)
  }

  /// The shipment, if it is addressed to `agency`.
  /// - Throws: ``TrackingError`` `.notFound` (unknown or another agency's), `.storageFailure`.
  public func shipment(_ number: TrackingNumber, for agency: AgencyCode) async throws -> Shipment {
    let shipment = try await self.shipments.shipment(number)
    guard shipment.destinationAgency == agency else { throw TrackingError.shipmentNotFound() }
    return shipment
  }

  /// A handoff, if it is addressed to `agency`.
  /// - Throws: ``TrackingError`` `.notFound`, `.storageFailure`.
  public func handoff(_ id: String, for agency: AgencyCode) async throws -> Handoff {
    guard let handoff = try await self.handoffs.handoff(id: id), handoff.agency == agency else {
      throw TrackingError(code: .notFound, message: "no such handoff")
    }
    return handoff
  }

  /// The agency's decision on a handoff (by `AcknowledgeHandoff` or with a push receipt).
  /// Accepting records `AGENCY_ACCEPTED` at the agency's receipt time, the legal filing time
  /// (QĐ 45 art. 7.4), then `APPOINTMENT_RECEIVED` when it gives a date; rejecting records
  /// `AGENCY_REJECTED`. The outbox row closes in the same write. A decision that was already
  /// applied (by either channel) is not applied again; a different one is refused.
  /// - Returns: The shipment after the decision, and whether it was applied now.
  /// - Throws: ``TrackingError`` `.notFound`, `.invalidArgument` (a dossier code of another
  ///   agency, a receipt time in the future), `.failedPrecondition` (decided otherwise before),
  ///   `.illegalTransition`, `.requestIDReused`, `.storageFailure`.
  public func decide(
    _ decision: AgencyDecision,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> (shipment: Shipment, applied: Bool) {
    guard let agency = actor.agency else {
      throw TrackingError(code: .permissionDenied, message: "only an agency decides on handoffs")
    }
    let handoff = try await self.handoff(decision.handoffID, for: agency)
    var occurredAt = now
    if case .accepted(let acceptance) = decision.outcome {
      guard acceptance.dossierCode.agency == agency else {
        throw TrackingError.invalidField(
          "accepted.dossier_code",
          "must start with the receiving agency's code \(agency)"
        )
      }
      occurredAt = acceptance.receivedAt
    }
    let shipment = try await self.shipment(handoff.trackingNumber, for: agency)
    let recorded = try await self.shipments.appendEvents(
      to: handoff.trackingNumber,
      context: EventContext(occurredAt: occurredAt, location: shipment.originPostOffice),
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      if let earlier = stored.shipment.agencyDecision(for: decision.handoffID) {
        guard earlier.agrees(with: decision) else {
          throw TrackingError(
            code: .failedPrecondition,
            message: "handoff \(decision.handoffID) was already \(earlier.summary)"
          )
        }
        return []
      }
      switch decision.outcome {
      case .accepted(let acceptance):
        var events = [
          ShipmentService.PlannedEvent(.agencyAccepted, .agencyDecision(decision))
        ]
        if acceptance.appointmentDate != nil {
          events.append(ShipmentService.PlannedEvent(.appointmentReceived))
        }
        return events
      case .rejected:
        return [ShipmentService.PlannedEvent(.agencyRejected, .agencyDecision(decision))]
      }
    }
    return (recorded.shipment, !recorded.events.isEmpty && !recorded.isReplay)
  }

  /// The agency refuses a dossier it holds (filed on paper, or accepted and then found not to
  /// qualify, NĐ 61/2018 art. 19.8): `AGENCY_REJECTED` with the reasons; the return leg follows.
  /// - Throws: ``TrackingError`` `.notFound`, `.illegalTransition`, `.requestIDReused`,
  ///   `.storageFailure`.
  public func refuse(
    _ number: TrackingNumber,
    reason: String,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    try await self.record(
      .agencyRejected,
      // No handoff: the decision comes by this call, about the dossier as filed.
      .agencyDecision(
        AgencyDecision(handoffID: "", channel: .pull, outcome: .rejected(reason: reason))
      ),
      on: number,
      by: actor,
      idempotencyKey,
      now
    )
  }

  /// The agency asks for missing items: `SUPPLEMENT_REQUESTED`.
  /// - Throws: ``TrackingError`` `.notFound`, `.illegalTransition`, `.requestIDReused`,
  ///   `.storageFailure`.
  public func requestSupplement(
    _ number: TrackingNumber,
    _ request: SupplementRequest,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    try await self.record(
      .supplementRequested,
      .supplement(request),
      on: number,
      by: actor,
      idempotencyKey,
      now
    )
  }

  /// The agency extends its processing, once, no later than one working day before the due
  /// date (NĐ 61 art. 19.9): `PROCESSING_EXTENDED`, which moves the due date citizens and the
  /// oversight office see.
  /// - Parameters:
  ///   - newDueDate: The new due date (the new appointment date).
  ///   - reason: Why.
  ///   - apology: The apology to the citizen.
  /// - Throws: ``TrackingError`` `.notFound`; `.failedPrecondition` when no agency deadline runs,
  ///   for a second extension or one that comes too late; `.invalidArgument` for a new date not
  ///   after the current one; `.requestIDReused`, `.storageFailure`.
  public func extendProcessing(
    _ number: TrackingNumber,
    newDueDate: CivilDate,
    reason: String,
    apology: String,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    guard let agency = actor.agency else {
      throw TrackingError(code: .permissionDenied, message: "only an agency extends its processing")
    }
    let located = try await self.shipment(number, for: agency)
    let shipments = self.shipments
    return try await shipments.append(
      to: number,
      context: EventContext(location: located.originPostOffice),
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { stored in
      let shipment = stored.shipment
      guard let calendar = shipments.timekeeper?.inputs.calendar,
        let current = ShipmentService.agencyDeadline(of: stored)
      else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "no agency deadline runs in state \(shipment.state.rawValue)"
        )
      }
      try DeadlineCalculator(calendar: calendar).checkExtension(
        requestedOn: now.dateInVietnam,
        currentDue: current.due,
        newDue: newDueDate,
        extensionsSoFar: shipment.effectiveEvents.count { $0.kind == .processingExtended }
      )
      return [
        ShipmentService.PlannedEvent(
          .processingExtended,
          .processingExtension(
            ProcessingExtension(
              previousDueDate: current.due,
              newDueDate: newDueDate,
              reason: reason,
              apology: apology
            )
          )
        )
      ]
    }
  }

  /// The agency says the result is ready: `RESULT_READY`.
  /// - Throws: ``TrackingError`` `.notFound`, `.illegalTransition` (also for a shipment without
  ///   a result leg), `.requestIDReused`, `.storageFailure`.
  public func reportResultReady(
    _ number: TrackingNumber,
    _ notice: ResultNotice,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    try await self.record(
      .resultReady,
      .resultNotice(notice),
      on: number,
      by: actor,
      idempotencyKey,
      now
    )
  }

  private func record(
    _ kind: EventKind,
    _ details: EventDetails,
    on number: TrackingNumber,
    by actor: Actor,
    _ idempotencyKey: IdempotencyKey,
    _ now: Timestamp
  ) async throws -> RecordedEvent {
    guard let agency = actor.agency else {
      throw TrackingError(
        code: .permissionDenied,
        message: "only an agency records \(kind.rawValue)"
      )
    }
    let shipment = try await self.shipment(number, for: agency)
    return try await self.shipments.append(
      to: number,
      context: EventContext(location: shipment.originPostOffice),
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { _ in [ShipmentService.PlannedEvent(kind, details)] }
  }
}

extension Shipment {
  /// The handoff queued for this shipment, if any.
  public var handoffTicket: HandoffTicket? {
    self.effectiveEvents.reversed().lazy.compactMap {
      if case .handoffQueued(let ticket) = $0.details { return ticket }
      return nil
    }.first
  }

  /// The agency's decision on a handoff, if one was recorded.
  public func agencyDecision(for handoffID: String) -> AgencyDecision? {
    self.effectiveEvents.lazy.compactMap {
      if case .agencyDecision(let decision) = $0.details, decision.handoffID == handoffID {
        return decision
      }
      return nil
    }.first
  }

  /// The agency's acceptance of the shipment's handoff, if any.
  public var agencyAcceptance: AgencyAcceptance? {
    self.effectiveEvents.reversed().lazy.compactMap {
      if case .agencyDecision(let decision) = $0.details,
        case .accepted(let acceptance) = decision.outcome
      {
        return acceptance
      }
      return nil
    }.first
  }
}

extension AgencyDecision {
  /// "accepted as <code>" or "rejected".
  public var summary: String {
    switch self.outcome {
    case .accepted(let acceptance): "accepted as \(acceptance.dossierCode)"
    case .rejected: "rejected"
    }
  }
}
