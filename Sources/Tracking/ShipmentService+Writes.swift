extension ShipmentService {
  /// An event a decision asks to append.
  struct PlannedEvent: Sendable {
    var kind: EventKind
    var details: EventDetails?
    var handover: HandoverRecord?

    init(_ kind: EventKind, _ details: EventDetails? = nil, handover: HandoverRecord? = nil) {
      self.kind = kind
      self.details = details
      self.handover = handover
    }
  }

  /// Appends the events `decide` names, moving the shipment through the transition table.
  func append(
    to number: TrackingNumber,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp,
    decide: @escaping @Sendable (RegisteredShipment) throws -> [PlannedEvent]
  ) async throws -> RecordedEvent {
    let recorded = try await self.appendEvents(
      to: number,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now,
      decide: decide
    )
    precondition(!recorded.events.isEmpty, "only scans may decide to append nothing")
    return recorded
  }

  /// Appends the events `decide` names (none: nothing is written and the key is not
  /// remembered), moving the shipment through the transition table.
  func appendEvents(
    to number: TrackingNumber,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp,
    newCommitment: CodeCommitment? = nil,
    decide: @escaping @Sendable (RegisteredShipment) throws -> [PlannedEvent]
  ) async throws -> RecordedEvent {
    let occurredAt = try Self.occurredAt(context, now: now)
    let location = try Self.location(context, actor: actor)
    let note = context.note.flatMap { $0.rawValue.isEmpty ? nil : $0.rawValue }
    return try await self.commitEvents(
      to: number,
      idempotencyKey: idempotencyKey,
      now: now,
      newCommitment: newCommitment
    ) { stored in
      let shipment = stored.shipment
      // A time the caller gives (a device's clock, a handover) cannot precede the registration;
      // the server's own clock is taken as it is.
      guard context.occurredAt == nil || occurredAt >= shipment.createdAt else {
        throw TrackingError.invalidField(
          "occurred_at",
          "is before the shipment was registered (\(shipment.createdAt))"
        )
      }
      var machine = ShipmentLifecycle(state: shipment.state, serviceType: shipment.serviceType)
      var events: [ShipmentEvent] = []
      for planned in try decide(stored) {
        let kind = planned.kind
        switch machine.apply(kind) {
        case .refused(let state):
          throw TrackingError.illegalTransition(kind, in: state)
        case .moved(let from, let to):
          events.append(
            ShipmentEvent(
              sequence: shipment.version + events.count + 1,
              kind: kind,
              fromState: from,
              toState: to,
              occurredAt: occurredAt,
              recordedAt: now,
              actor: actor.id,
              location: location,
              note: events.isEmpty ? note : nil,
              details: planned.details,
              handover: planned.handover
            )
          )
        }
      }
      return events
    }
  }

  /// How many times a decision is retried when its shipment changed before the commit.
  static let maximumCommitAttempts = 8

  /// The write path every recording takes: the key's earlier result if it was remembered;
  /// otherwise read the shipment, decide the events on it, and commit them with everything
  /// they imply (``ShipmentWriter``), expecting the version the decision saw; when another
  /// write got there first, decide again on the new version.
  func commitEvents(
    to number: TrackingNumber,
    idempotencyKey: IdempotencyKey,
    now: Timestamp,
    newCommitment: CodeCommitment? = nil,
    erasesPersonalData: Bool = false,
    lookupDigests: [String]? = nil,
    decide: @Sendable (RegisteredShipment) throws -> [ShipmentEvent]
  ) async throws -> RecordedEvent {
    for _ in 1 ... Self.maximumCommitAttempts {
      if let replay = try await self.replay(idempotencyKey, of: number) { return replay }
      guard let stored = try await self.store.shipmentWithCommitment(number) else {
        throw TrackingError.shipmentNotFound()
      }
      let events = try decide(stored)
      guard !events.isEmpty else {
        return RecordedEvent(shipment: stored.shipment, events: [], isReplay: false)
      }
      var write = self.writer.write(
        appending: events,
        to: stored,
        idempotencyKey: idempotencyKey,
        now: now
      )
      write.newCommitment = newCommitment
      write.erasesPersonalData = erasesPersonalData
      write.lookupDigests = lookupDigests
      do {
        let outcome = try await self.store.commit(write)
        return RecordedEvent(
          shipment: outcome.value.shipment,
          events: outcome.value.events,
          isReplay: outcome.isReplay,
          erasedScans: outcome.value.erasedScans
        )
      } catch let error as TrackingError where error.code == .conflict {
        continue
      }
    }
    throw TrackingError.conflict()
  }

  /// Recomputes a shipment's hops with the inputs in force and, with `apply`, stores them
  /// through the same write path as events (expecting the version it read; a concurrent write
  /// stores its own hops, and the recomputation retries on the new version).
  /// - Returns: The hops as stored before, and as recomputed.
  public func recomputeHops(
    of number: TrackingNumber,
    apply: Bool,
    now: Timestamp
  ) async throws -> (stored: [HopTimeliness], recomputed: [HopTimeliness]) {
    for _ in 1 ... Self.maximumCommitAttempts {
      let stored = try await self.stored(number)
      let recomputed = self.timekeeper?.hops(of: stored.shipment) ?? []
      guard apply, let write = self.writer.recomputation(of: stored, now: now) else {
        return (stored.hops, recomputed)
      }
      do {
        _ = try await self.store.commit(write)
        return (stored.hops, write.hops ?? recomputed)
      } catch let error as TrackingError where error.code == .conflict {
        continue
      }
    }
    throw TrackingError.conflict()
  }

  /// The earlier result of a remembered key for this shipment, or `nil` for a new key.
  private func replay(
    _ key: IdempotencyKey,
    of number: TrackingNumber
  ) async throws
    -> RecordedEvent?
  {
    switch try await self.store.remembered(key) {
    case nil:
      return nil
    case .registration:
      throw TrackingError.requestIDReused()
    case .events(let appended):
      // The fingerprint covers the number, but a key is the caller's to reuse only as it was.
      guard appended.shipment.trackingNumber == number else {
        throw TrackingError.requestIDReused()
      }
      return RecordedEvent(shipment: appended.shipment, events: appended.events, isReplay: true)
    }
  }

  static func occurredAt(_ context: EventContext, now: Timestamp) throws -> Timestamp {
    let occurredAt = context.occurredAt ?? now
    guard occurredAt <= now.advanced(by: Self.clockSkewTolerance) else {
      throw TrackingError.invalidField("occurred_at", "is more than 5 minutes in the future")
    }
    return occurredAt
  }

  static func location(_ context: EventContext, actor: Actor) throws -> PostOfficeCode {
    guard let location = context.location ?? actor.postOffice else {
      throw TrackingError.invalidField("location", "is required for callers without a post office")
    }
    return location
  }

  /// The working days the last invitation gives the citizen to collect the papers at the post
  /// office: the spacing TT 17/2017 art. 5.2h sets between invitations.
  static let invitationWaitingWorkingDays = 2

  /// TT 17/2017 art. 5.2h: the result (or a refused dossier's papers) goes back to the agency
  /// only after the citizen was invited at least twice, two working days apart, and the last
  /// invitation's waiting period is over.
  static func checkInvitationsAllowReturn(
    _ shipment: Shipment,
    calendar: any WorkingCalendar,
    now: Timestamp
  ) throws {
    let failed = shipment.failedDeliveries
    guard failed.count >= 2, let first = failed.first, let last = failed.last else {
      throw TrackingError(
        code: .failedPrecondition,
        message:
          "the papers go back to the agency only after two failed invitations (\(failed.count) so far)"
      )
    }
    let spacing = calendar.workingDays(
      after: first.occurredAt.dateInVietnam,
      through: last.occurredAt.dateInVietnam
    )
    guard spacing >= 2 else {
      throw TrackingError(
        code: .failedPrecondition,
        message:
          "the invitations must be at least two working days apart (the first and the last are \(spacing))"
      )
    }
    let invited = last.occurredAt.dateInVietnam
    guard
      calendar.workingDays(after: invited, through: now.dateInVietnam)
        > Self.invitationWaitingWorkingDays
    else {
      var lastDay = invited
      var counted = 0
      while counted < Self.invitationWaitingWorkingDays {
        lastDay = lastDay.adding(days: 1)
        if calendar.isWorkingDay(lastDay) { counted += 1 }
      }
      throw TrackingError(
        code: .failedPrecondition,
        message:
          "the last invitation (\(invited)) gives the citizen until the end of \(lastDay) to collect the papers"
      )
    }
  }
}
