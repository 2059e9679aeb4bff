/// Reading a shipment's append-only history: which events a correction voided, what the state
/// is without them, and the facts the effective events establish.
extension Shipment {
  /// The sequence numbers voided by correction events.
  public var voidedSequences: Set<Int> {
    Set(
      self.events.compactMap {
        if case .correction(let correction) = $0.details { return correction.voidedSequence }
        return nil
      }
    )
  }

  /// The events that count: neither voided nor corrections themselves, oldest first.
  public var effectiveEvents: [ShipmentEvent] {
    let voided = self.voidedSequences
    return self.events.filter { !voided.contains($0.sequence) && $0.kind != .correction }
  }

  /// Replays the history through the transition table, leaving out `voiding` and events voided
  /// before.
  /// - Parameter voiding: A sequence number to leave out as well (a proposed correction).
  /// - Returns: The state the remaining events lead to.
  /// - Throws: ``TrackingError`` `.illegalTransition` if a remaining event no longer follows.
  public func replayedState(voiding: Int? = nil) throws -> ShipmentState {
    var voided = self.voidedSequences
    if let voiding { voided.insert(voiding) }
    var machine = ShipmentLifecycle(
      state: ShipmentLifecycle.initialState(for: self.serviceType),
      serviceType: self.serviceType
    )
    for event in self.events where event.kind != .registered && event.kind != .correction {
      guard !voided.contains(event.sequence) else { continue }
      if case .refused(let state) = machine.apply(event.kind) {
        throw TrackingError(
          code: .illegalTransition,
          message:
            "without it, event \(event.sequence) (\(event.kind.rawValue)) would follow state \(state.rawValue)"
        )
      }
    }
    return machine.state
  }

  /// The accepted dossier: the last effective collection.
  public var collection: DossierCollection? {
    self.effectiveEvents.reversed().lazy.compactMap {
      if case .collection(let collection) = $0.details { return collection }
      return nil
    }.first
  }

  /// The effective scans, oldest first.
  public var scans: [Scan] {
    self.effectiveEvents.compactMap {
      if case .scan(let scan) = $0.details { return scan }
      return nil
    }
  }

  /// The result as collected at the agency.
  public var resultCollection: ResultCollection? {
    self.effectiveEvents.reversed().lazy.compactMap {
      if case .resultCollection(let result) = $0.details { return result }
      return nil
    }.first
  }

  /// The effective failed delivery attempts of the current leg (the result's, or the return
  /// of a refused dossier), oldest first.
  public var failedDeliveries: [ShipmentEvent] {
    let events = self.effectiveEvents
    let legStart = events.lastIndex { $0.kind == .resultCollected || $0.kind == .returnCollected }
    return events[(legStart ?? events.startIndex)...].filter { $0.kind == .deliveryFailed }
  }

  /// Whether the agency holds the dossier's papers: a physical handover to it was signed.
  public var papersAreAtAgency: Bool {
    self.effectiveEvents.contains { $0.kind == .handedToAgency && $0.handover != nil }
  }

  /// The agency's refusal, if it refused the dossier.
  public var refusal: AgencyDecision? {
    self.effectiveEvents.reversed().lazy.compactMap {
      if $0.kind == .agencyRejected, case .agencyDecision(let decision) = $0.details {
        return decision
      }
      return nil
    }.first
  }

  /// The seal on the envelope now: from the last collection, result collection or re-wrapping.
  public var currentSealID: String? {
    for event in self.effectiveEvents.reversed() {
      switch event.details {
      case .collection(let collection): return collection.sealID
      case .resultCollection(let result): return result.sealID
      case .damage(let damage): return damage.newSealID
      default: continue
      }
    }
    return nil
  }

  /// The dossier items handed over that have no scan yet.
  public var unscannedDocumentIDs: [String] {
    guard let collection = self.collection else { return [] }
    let scanned = Set(self.scans.map(\.documentID))
    var seen: Set<String> = []
    return collection.items.map(\.documentID).filter {
      !scanned.contains($0) && seen.insert($0).inserted
    }
  }
}
