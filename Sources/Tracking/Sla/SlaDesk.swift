/// The oversight office's and operators' use cases on service levels: explain a hop, report a
/// period, recompute stored verdicts.
public struct SlaDesk: Sendable {
  let shipments: ShipmentService
  let store: any SlaStore
  let timekeeper: SlaTimekeeper

  /// Creates a desk.
  public init(shipments: ShipmentService, store: any SlaStore, timekeeper: SlaTimekeeper) {
    self.shipments = shipments
    self.store = store
    self.timekeeper = timekeeper
  }

  /// A hop of a shipment as stored, with every step.
  /// - Parameters:
  ///   - number: The shipment.
  ///   - hop: Which hop; `nil` for the one running now.
  /// - Returns: The hop and the shipment.
  /// - Throws: ``TrackingError`` `.notFound`; `.failedPrecondition` when the hop has not
  ///   started (or, without `hop`, when none runs).
  public func explain(
    _ number: TrackingNumber,
    hop: SlaHop?
  ) async throws -> (
    HopTimeliness, Shipment
  ) {
    let stored = try await self.shipments.stored(number)
    let shipment = stored.shipment
    let hops = stored.hops
    if let hop {
      guard let found = hops.first(where: { $0.hop == hop }) else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "the \(hop.rawValue) clock has not started in state \(shipment.state.rawValue)"
        )
      }
      return (found, shipment)
    }
    guard let running = hops.last(where: \.isRunning) else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "no deadline runs in state \(shipment.state.rawValue)"
      )
    }
    return (running, shipment)
  }

  /// The alerts after a cursor, oldest first.
  public func alerts(after cursor: Int64, limit: Int) async throws -> [SlaAlert] {
    try await self.store.alerts(after: cursor, limit: limit)
  }

  /// The working minutes of a day under the policy in force.
  public var minutesPerDay: Int { self.timekeeper.inputs.policy.officeHours.minutesPerDay }

  /// The report of a period.
  /// - Parameters:
  ///   - from: The first day (Vietnam).
  ///   - through: The last day (Vietnam), inclusive.
  ///   - grouping: By what.
  ///   - now: The report's time (for hops still running past their due time).
  public func report(
    from: CivilDate,
    through: CivilDate,
    grouping: SlaReportGrouping,
    now: Timestamp
  ) async throws -> SlaReport {
    let aggregates = try await self.store.report(
      endedFrom: .startOfVietnamDay(from),
      to: .startOfVietnamDay(through.adding(days: 1)),
      overdueAt: now,
      grouping: grouping
    )
    return SlaReport(aggregates: aggregates, minutesPerDay: self.minutesPerDay)
  }

  /// Recomputes every stored hop with the inputs in force and lists the differences; with
  /// `apply`, stores them through the write path (run after every reload of the calendars, the
  /// policy or the catalog, so that stored hops stay the one truth).
  /// - Parameters:
  ///   - apply: Store the recomputed hops.
  ///   - now: The time, for breach alerts of hops that now ended late.
  ///   - maximumChanges: How many differences to return at most.
  public func recompute(
    apply: Bool,
    now: Timestamp,
    maximumChanges: Int
  ) async throws
    -> SlaRecomputation
  {
    let inputs = self.timekeeper.inputs
    var result = SlaRecomputation(inputs: inputs)
    var after: TrackingNumber?
    while true {
      let page = try await self.store.shipmentsWithHops(after: after, limit: 500)
      guard let last = page.last else { break }
      after = last
      for number in page {
        let (stored, recomputed) = try await self.shipments.recomputeHops(
          of: number,
          apply: apply,
          now: now
        )
        result.shipmentsChecked += 1
        result.hopsChecked += stored.count
        let differences = SlaDifference.between(
          stored: stored,
          recomputed: recomputed,
          of: number
        )
        guard !differences.isEmpty else { continue }
        result.changes += differences.prefix(max(0, maximumChanges - result.changes.count))
        result.truncated = result.truncated || result.changes.count >= maximumChanges
      }
    }
    result.applied = apply
    return result
  }
}

/// What a recomputation found.
public struct SlaRecomputation: Sendable {
  /// The inputs it used.
  public var inputs: SlaInputs
  /// Shipments and hops compared.
  public var shipmentsChecked = 0
  public var hopsChecked = 0
  /// The hops that differ.
  public var changes: [SlaDifference] = []
  /// Whether there were more differences than returned.
  public var truncated = false
  /// Whether the recomputed hops were stored.
  public var applied = false
}
