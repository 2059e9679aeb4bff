import Foundation
import Testing
import Tracking

@Suite("Store contract: handoff outbox and SLA hops")
struct OutboxAndSlaContractTests {
  static let t0 = Timestamp(microseconds: 1_772_409_600_000_000)  // 2026-03-02 00:00 UTC

  /// A hop of `number` started at its event `start`.
  static func hop(
    _ number: TrackingNumber,
    _ kind: SlaHop = .agencyProcessing,
    start: Int = 1,
    atRisk: Timestamp,
    due: Timestamp,
    ended: (sequence: Int, at: Timestamp, verdict: HopVerdict, minutes: Int)? = nil,
    agency: String = "000.00.00.H55"
  ) throws -> HopTimeliness {
    HopTimeliness(
      trackingNumber: number,
      hop: kind,
      startSequence: start,
      startKind: .registered,
      startedAt: Self.t0,
      workingDays: 3,
      countedFrom: Self.t0.dateInVietnam,
      due: due.dateInVietnam,
      dueAt: due,
      atRiskAt: atRisk,
      calendarVersions: ["test"],
      provisional: false,
      policyVersion: "test",
      routeClass: kind == .agencyProcessing ? nil : .withinProvince,
      appointmentSlip: false,
      endSequence: ended?.sequence,
      endedAt: ended?.at,
      verdict: ended?.verdict,
      stoppedBy: nil,
      workingMinutes: ended?.minutes,
      agency: try AgencyCode(validating: agency),
      postOffice: try PostOfficeCode(validating: "250000"),
      procedure: try ProcedureCode(validating: "1.001234"),
      steps: ["step one", "step\ntwo"]
    )
  }

  /// Commits hops (and alerts) for a stored shipment without events.
  static func writeHops(
    _ hops: [HopTimeliness],
    alerts: [AlertRequest] = [],
    of number: TrackingNumber,
    in stores: Stores,
    at time: Timestamp = t0
  ) async throws {
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    _ = try await stores.shipments.commit(
      ShipmentWrite(
        shipment: stored.shipment,
        expectedVersion: stored.shipment.version,
        events: [],
        custodyLeaves: [],
        hops: hops,
        alerts: alerts,
        idempotencyKey: nil,
        committedAt: time
      )
    )
  }

  @Test(
    "outbox rows are queued and closed by writes; failures back off and dead-letter",
    arguments: WriteBackend.all
  )
  func outbox(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    let agency = try AgencyCode(validating: "000.00.00.H55")
    let ticket = HandoffTicket(handoffID: "\(number)-H1", agency: agency, mode: .push)
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    let collected = try Fixture.event(.collected, after: stored.shipment)
    var write = Fixture.writer.write(
      appending: [collected],
      to: stored,
      idempotencyKey: nil,
      now: Self.t0
    )
    write.outbox = [.queue(ticket)]
    _ = try await stores.shipments.commit(write)
    #expect(try await stores.handoffs.nextAttemptTime(agency: agency) == Self.t0)
    #expect(
      try await stores.handoffs.dueHandoffs(agency: agency, now: Self.t0, limit: 5).count == 1
    )
    #expect(try await stores.handoffs.channelSummaries().map(\.oldestPendingQueuedAt) == [Self.t0])

    let later = Self.t0.advanced(by: .seconds(60))
    try await stores.handoffs.recordFailedAttempt(
      id: ticket.handoffID,
      at: Self.t0,
      error: "refused",
      nextAttemptAt: later,
      deadLetter: false
    )
    #expect(try await stores.handoffs.dueHandoffs(agency: agency, now: Self.t0, limit: 5).isEmpty)
    #expect(try await stores.handoffs.nextAttemptTime(agency: agency) == later)
    try await stores.handoffs.recordFailedAttempt(
      id: ticket.handoffID,
      at: later,
      error: "refused again",
      nextAttemptAt: later,
      deadLetter: true
    )
    #expect(try await stores.handoffs.handoff(id: ticket.handoffID)?.status == .dead)
    #expect(try await stores.handoffs.nextAttemptTime(agency: agency) == nil)
    let retried = try await stores.handoffs.retryDeadLetter(id: ticket.handoffID, now: later)
    #expect(retried?.status == .pending)
    #expect(retried?.attempts == 0)

    let current = try #require(try await stores.shipments.shipmentWithCommitment(number))
    var close = ShipmentWrite(
      shipment: current.shipment,
      expectedVersion: current.shipment.version,
      events: [],
      custodyLeaves: [],
      idempotencyKey: nil,
      committedAt: later
    )
    close.outbox = [.close(handoffID: ticket.handoffID, status: .accepted)]
    _ = try await stores.shipments.commit(close)
    #expect(try await stores.handoffs.handoff(id: ticket.handoffID)?.status == .accepted)
    let summary = try await stores.handoffs.channelSummaries()
    #expect(summary.map(\.queueDepth) == [0])
    #expect(summary.map(\.oldestPendingQueuedAt) == [nil], "nothing pending")
  }

  @Test(
    "hops are replaced by writes with their steps; alerts are raised once per clock start",
    arguments: StoreBackend.all
  )
  func hopsAndAlerts(backend: StoreBackend) async throws {
    let stores = try await backend.open()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    let atRisk = Self.t0.advanced(by: .seconds(3600))
    let due = Self.t0.advanced(by: .seconds(7200))
    let hop = try Self.hop(number, atRisk: atRisk, due: due)
    try await Self.writeHops([hop], of: number, in: stores)
    #expect(try await stores.sla.storedHops(of: number) == [hop])
    #expect(try await stores.shipments.shipmentWithCommitment(number)?.hops == [hop])
    #expect(try await stores.sla.nextAlertTime() == atRisk)
    #expect(try await stores.sla.runningHopCounts(now: Self.t0) == .init(atRisk: 0, overdue: 0))
    #expect(try await stores.sla.runningHopCounts(now: atRisk) == .init(atRisk: 1, overdue: 0))
    #expect(try await stores.sla.runningHopCounts(now: due) == .init(atRisk: 0, overdue: 1))

    #expect(try await stores.sla.raiseDueAlerts(now: Self.t0, limit: 10).isEmpty)
    let first = try await stores.sla.raiseDueAlerts(now: atRisk, limit: 10)
    #expect(first.map(\.kind) == [.atRisk])
    #expect(try await stores.sla.nextAlertTime() == due)
    #expect(try await stores.sla.raiseDueAlerts(now: atRisk, limit: 10).isEmpty, "once")

    // Rewriting the same clock keeps what was raised; a late end raises its breach with the
    // write, once, whoever comes first.
    let ended = try Self.hop(
      number,
      atRisk: atRisk,
      due: due,
      ended: (2, due.advanced(by: .seconds(86_400)), .late, 900)
    )
    try await Self.writeHops(
      [ended],
      alerts: [AlertRequest(kind: .breach, hop: .agencyProcessing)],
      of: number,
      in: stores
    )
    try await Self.writeHops(
      [ended],
      alerts: [AlertRequest(kind: .breach, hop: .agencyProcessing)],
      of: number,
      in: stores
    )
    let all = try await stores.sla.alerts(after: 0, limit: 10)
    #expect(all.map(\.kind) == [.atRisk, .breach])
    #expect(all.map(\.cursor) == all.map(\.cursor).sorted())
    #expect(try await stores.sla.nextAlertTime() == nil, "an ended hop raises nothing more")

    // A restarted clock (a new start) may raise its own alerts again.
    let restarted = try Self.hop(number, start: 3, atRisk: atRisk, due: due)
    try await Self.writeHops([restarted], of: number, in: stores)
    #expect(
      try await stores.sla.raiseDueAlerts(now: due, limit: 10).map(\.kind) == [.atRisk, .breach]
    )
    #expect(try await stores.sla.shipmentsWithHops(after: nil, limit: 10) == [number])
  }

  @Test(
    "the store's report equals the in-memory reference on the same hops",
    arguments: StoreBackend.all
  )
  func reportAggregation(backend: StoreBackend) async throws {
    let stores = try await backend.open()
    var hops: [HopTimeliness] = []
    var generator = SeededGenerator(state: 7)
    for index in 0 ..< 40 {
      let number = try await Fixture.register(stores, key: Fixture.key("r\(index)")).value.shipment
        .trackingNumber
      let due = Self.t0.advanced(by: .seconds(Int64(index % 5) * 86_400))
      let agency = index % 3 == 0 ? "000.00.12.H55" : "000.00.00.H55"
      let hop: HopTimeliness
      if index % 7 == 6 {
        hop = try Self.hop(number, atRisk: due, due: due, agency: agency)  // running, overdue
      } else {
        let minutes = Int.random(in: 60 ... 4000, using: &generator)
        let verdict: HopVerdict = index % 4 == 0 ? .late : .onTime
        hop = try Self.hop(
          number,
          atRisk: due,
          due: due,
          ended: (2, Self.t0.advanced(by: .seconds(Int64(index) * 3600)), verdict, minutes),
          agency: agency
        )
      }
      try await Self.writeHops([hop], of: number, in: stores)
      hops.append(hop)
    }
    let from = Self.t0
    let to = Self.t0.advanced(by: .seconds(30 * 3600))
    let now = Self.t0.advanced(by: .seconds(10 * 86_400))
    let inPeriod = hops.filter {
      ($0.verdict != nil && $0.endedAt! >= from && $0.endedAt! < to) || $0.isOverdue(at: now)
    }
    let reference = SlaReport(hops: inPeriod, grouping: .agency, minutesPerDay: 450)
    let aggregated = SlaReport(
      aggregates: try await stores.sla.report(
        endedFrom: from,
        to: to,
        overdueAt: now,
        grouping: .agency
      ),
      minutesPerDay: 450
    )
    #expect(aggregated == reference)
    #expect(aggregated.rows.reduce(0) { $0 + $1.openBreaches } == 5)
  }
}
