import Testing
import Tracking

@Suite("Store contract: counter queue tickets")
struct QueueTicketContractTests {
  /// 2026-03-02 08:00 in Vietnam.
  static let morning = Timestamp(microseconds: 1_772_413_200_000_000)

  static func ticket(
    _ number: String,
    office: String = "250000",
    issuedAfter minutes: Int64 = 0,
    waiting seconds: Int64
  ) throws -> QueueTicket {
    let issued = Self.morning.advanced(by: .seconds(minutes * 60))
    return try QueueTicket(
      postOffice: try PostOfficeCode(validating: office),
      number: number,
      issuedAt: issued,
      calledAt: issued.advanced(by: .seconds(seconds)),
      trackingNumber: nil,
      recordedBy: Fixture.clerk,
      now: Self.morning.advanced(by: .seconds(4 * 3600))
    )
  }

  @Test(
    "a ticket is kept once: a replay is told, a reused request id or other times are refused",
    arguments: WriteBackend.all
  )
  func keptOnce(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let ticket = try Self.ticket("A001", waiting: 600)
    #expect(!(try await stores.queueTickets.record(ticket, key: Fixture.key("t1"))).isReplay)
    #expect(try await stores.queueTickets.record(ticket, key: Fixture.key("t1")).isReplay)
    await #expect {
      try await stores.queueTickets.record(
        try Self.ticket("A002", waiting: 60),
        key: Fixture.key("t1", 2)
      )
    } throws: { ($0 as? TrackingError)?.code == .requestIDReused }
    #expect(try await stores.queueTickets.record(ticket, key: Fixture.key("t1-again")).isReplay)
    await #expect {
      try await stores.queueTickets.record(
        try Self.ticket("A001", waiting: 900),
        key: Fixture.key("t1-other")
      )
    } throws: { ($0 as? TrackingError)?.code == .duplicate }
  }

  @Test(
    "waits per post office and per hour: count, mean, nearest-rank median and p90, longest, within 15 minutes",
    arguments: WriteBackend.all
  )
  func waits(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let tickets = [
      try Self.ticket("A001", waiting: 600),
      try Self.ticket("A002", issuedAfter: 10, waiting: 1200),
      try Self.ticket("A003", issuedAfter: 70, waiting: 300),
      try Self.ticket("B001", office: "251000", issuedAfter: 75, waiting: 1800),
    ]
    for (index, ticket) in tickets.enumerated() {
      _ = try await stores.queueTickets.record(ticket, key: Fixture.key("w\(index)"))
    }
    let day = (Self.morning, Self.morning.advanced(by: .seconds(86_400)))
    let byOffice = try await stores.queueTickets.counterWaits(
      issuedFrom: day.0,
      before: day.1,
      grouping: .postOffice
    )
    #expect(
      byOffice == [
        CounterWaitRow(
          key: "250000",
          tickets: 3,
          meanSeconds: 700,
          medianSeconds: 600,
          p90Seconds: 1200,
          longestSeconds: 1200,
          withinTarget: 2
        ),
        CounterWaitRow(
          key: "251000",
          tickets: 1,
          meanSeconds: 1800,
          medianSeconds: 1800,
          p90Seconds: 1800,
          longestSeconds: 1800,
          withinTarget: 0
        ),
      ]
    )
    let byHour = try await stores.queueTickets.counterWaits(
      issuedFrom: day.0,
      before: day.1,
      grouping: .hourOfDay
    )
    #expect(byHour.map(\.key) == ["08", "09"])
    #expect(byHour.map(\.tickets) == [2, 2])
    #expect(byHour.map(\.medianSeconds) == [600, 300])
    let none = try await stores.queueTickets.counterWaits(
      issuedFrom: day.1,
      before: day.1.advanced(by: .seconds(86_400)),
      grouping: .postOffice
    )
    #expect(none.isEmpty)
  }
}
