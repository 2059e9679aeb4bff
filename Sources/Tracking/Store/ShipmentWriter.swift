/// Turns a decision (new events for a shipment) into the whole ``ShipmentWrite``: the custody
/// leaves, the outbox changes the events carry, the shipment's hops after them and the breach
/// alerts of hops that ended late. The one place that decides what a commit contains.
public struct ShipmentWriter: Sendable {
  let timekeeper: SlaTimekeeper?
  let notifications: NotificationPlanner?

  /// Creates a writer.
  /// - Parameters:
  ///   - timekeeper: Works out hops (none: hops are not kept).
  ///   - notifications: Decides the messages events queue (none: no messages).
  public init(timekeeper: SlaTimekeeper?, notifications: NotificationPlanner? = nil) {
    self.timekeeper = timekeeper
    self.notifications = notifications
  }

  /// The write that appends `events` to a stored shipment.
  /// - Parameters:
  ///   - events: Numbered on from the shipment's version.
  ///   - stored: The shipment as read.
  ///   - key: The request's key.
  ///   - now: The time of the write.
  public func write(
    appending events: [ShipmentEvent],
    to stored: RegisteredShipment,
    idempotencyKey key: IdempotencyKey?,
    now: Timestamp
  ) -> ShipmentWrite {
    let before = stored.shipment
    var after = before
    for (offset, event) in events.enumerated() {
      precondition(event.sequence == before.version + offset + 1, "events are numbered on")
    }
    if let last = events.last {
      after.events += events
      after.version = last.sequence
      after.state = last.toState
      after.updatedAt = last.recordedAt
    }
    for event in events {
      if case .personalDataCorrection(let correction) = event.details {
        after.applicant = correction.applicant
      }
    }
    let leaves = events.map {
      CustodyLeaf(
        eventSequence: $0.sequence,
        data: CustodyEntry.encode($0, of: before, salt: stored.custodySalt)
      )
    }
    let outbox = events.compactMap { event -> OutboxChange? in
      switch event.details {
      case .handoffQueued(let ticket):
        return .queue(ticket)
      case .agencyDecision(let decision):
        switch decision.outcome {
        case .accepted: return .close(handoffID: decision.handoffID, status: .accepted)
        case .rejected: return .close(handoffID: decision.handoffID, status: .rejected)
        }
      default:
        return nil
      }
    }
    let hops = self.timekeeper?.hops(of: after)
    var write = ShipmentWrite(
      shipment: after,
      expectedVersion: before.version,
      events: events,
      custodyLeaves: leaves,
      outbox: outbox,
      hops: hops,
      alerts: Self.alerts(for: hops ?? []),
      idempotencyKey: key,
      committedAt: now
    )
    write.notifications = self.notifications?.requests(for: events, of: after) ?? []
    // An agency's dossier code names one dossier: the store keeps it unique.
    write.dossierCodes = events.compactMap {
      if case .agencyDecision(let decision) = $0.details,
        case .accepted(let acceptance) = decision.outcome
      {
        return acceptance.dossierCode
      }
      return nil
    }
    return write
  }

  /// The write that replaces a shipment's stored hops with ones computed with the inputs in
  /// force, or `nil` when nothing would change (or no hops are kept).
  public func recomputation(of stored: RegisteredShipment, now: Timestamp) -> ShipmentWrite? {
    guard let timekeeper = self.timekeeper else { return nil }
    let hops = timekeeper.hops(of: stored.shipment)
    let byKind = { (hops: [HopTimeliness]) in
      Dictionary(hops.map { ($0.hop, $0) }, uniquingKeysWith: { $1 })
    }
    guard byKind(stored.hops) != byKind(hops) else { return nil }
    return ShipmentWrite(
      shipment: stored.shipment,
      expectedVersion: stored.shipment.version,
      events: [],
      custodyLeaves: [],
      hops: hops,
      alerts: Self.alerts(for: hops),
      idempotencyKey: nil,
      committedAt: now
    )
  }

  /// The write that records the citizen's choice of notification channel, kept with the
  /// earlier ones.
  public func write(
    _ consent: NotificationConsent,
    to stored: RegisteredShipment,
    now: Timestamp
  ) -> ShipmentWrite {
    var after = stored.shipment
    after.notificationChannel = consent.channel
    var write = ShipmentWrite(
      shipment: after,
      expectedVersion: after.version,
      events: [],
      custodyLeaves: [],
      idempotencyKey: nil,
      committedAt: now
    )
    write.consent = consent
    return write
  }

  /// The registration of a new shipment.
  public func registration(
    _ shipment: Shipment,
    commitment: CodeCommitment,
    custodySalt: [UInt8],
    idempotencyKey key: IdempotencyKey
  ) -> ShipmentRegistration {
    ShipmentRegistration(
      shipment: shipment,
      commitment: commitment,
      custodySalt: custodySalt,
      custodyLeaves: shipment.events.map {
        CustodyLeaf(
          eventSequence: $0.sequence,
          data: CustodyEntry.encode($0, of: shipment, salt: custodySalt)
        )
      },
      idempotencyKey: key
    )
  }

  /// A hop that ended late is in breach: its alert is raised with the write that ends it, if
  /// the monitor has not raised it already (the store keeps one per hop and clock start).
  static func alerts(for hops: [HopTimeliness]) -> [AlertRequest] {
    hops.filter { $0.verdict == .late }.map { AlertRequest(kind: .breach, hop: $0.hop) }
  }
}
