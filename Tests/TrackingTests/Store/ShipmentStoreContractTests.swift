import Foundation
import Testing
import Tracking

/// The write side every backend must implement the same way.
@Suite("Store contract: shipments and events")
struct ShipmentStoreContractTests {
  @Test(
    "registration stores the shipment with its registration event and leaf",
    arguments: WriteBackend.all
  )
  func registration(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let first = try await Fixture.register(stores, key: Fixture.key("a"))
    let second = try await Fixture.register(stores, key: Fixture.key("b"))
    #expect(first.value.shipment.trackingNumber.rawValue == "EA000000005VN")
    #expect(second.value.shipment.trackingNumber.serial == 1)
    #expect(first.value.shipment.events.map(\.leafIndex) == [0])
    #expect(second.value.shipment.events.map(\.leafIndex) == [1])
    let loaded = try await stores.shipments.shipmentWithCommitment(
      first.value.shipment.trackingNumber
    )
    #expect(loaded == first.value)
    #expect(loaded?.shipment.events.map(\.kind) == [.registered])
  }

  @Test(
    "numbers are consecutive and never handed out twice, even to registrations racing each other",
    arguments: WriteBackend.all
  )
  func serialsAreUnique(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let serials = try await withThrowingTaskGroup(of: Int.self) { group in
      for index in 0 ..< 50 {
        group.addTask {
          try await Fixture.register(stores, key: Fixture.key("r\(index)")).value.shipment
            .trackingNumber.serial
        }
      }
      return try await group.reduce(into: [Int]()) { $0.append($1) }
    }
    #expect(serials.sorted() == Array(0 ..< 50))
    #expect(try await stores.custody.treeSize() == 50)
  }

  @Test(
    "a replayed key returns the original; a different body is requestIDReused",
    arguments: WriteBackend.all
  )
  func idempotency(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let original = try await Fixture.register(stores, key: Fixture.key("a"))
    let number = original.value.shipment.trackingNumber
    _ = try await Fixture.append(.collected, to: number, in: stores, key: Fixture.key("e1"))

    guard case .registration(let replayed) = try await stores.shipments.remembered(Fixture.key("a"))
    else {
      Issue.record("the registration key is remembered")
      return
    }
    #expect(replayed.shipment == original.value.shipment)
    await #expect {
      try await stores.shipments.remembered(Fixture.key("a", 2))
    } throws: { ($0 as? TrackingError)?.code == .requestIDReused }
    guard case .events(let events) = try await stores.shipments.remembered(Fixture.key("e1")) else {
      Issue.record("the event key is remembered")
      return
    }
    #expect(events.events.map(\.kind) == [.collected])
    #expect(events.shipment.version == 2)

    // A commit whose key was remembered meanwhile is a replay, not a second write.
    let stale = try await stores.shipments.shipmentWithCommitment(number)
    let again = try await Fixture.append(
      .dispatched,
      to: number,
      in: stores,
      key: Fixture.key("e1")
    )
    #expect(again.isReplay)
    #expect(again.value.events.map(\.kind) == [.collected])
    #expect(try await stores.shipments.shipment(number)?.version == stale?.shipment.version)
  }

  @Test("idempotency keys belong to their caller", arguments: WriteBackend.all)
  func keysArePerCaller(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let mine = try await Fixture.register(stores, key: Fixture.key("same"))
    let other = "spiffe://test/staff/251000/courier-07"
    #expect(try await stores.shipments.remembered(Fixture.key("same", 9, caller: other)) == nil)
    let theirs = try await Fixture.register(stores, key: Fixture.key("same", 9, caller: other))
    #expect(!theirs.isReplay)
    #expect(theirs.value.shipment.trackingNumber != mine.value.shipment.trackingNumber)
  }

  @Test(
    "a write decided on an old version is refused as a conflict and changes nothing",
    arguments: WriteBackend.all
  )
  func optimisticConcurrency(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    let stale = try #require(try await stores.shipments.shipmentWithCommitment(number))
    _ = try await Fixture.append(.collected, to: number, in: stores, key: Fixture.key("b"))
    let event = try Fixture.event(.collected, after: stale.shipment)
    let write = Fixture.writer.write(
      appending: [event],
      to: stale,
      idempotencyKey: try Fixture.key("c"),
      now: event.recordedAt
    )
    await #expect {
      try await stores.shipments.commit(write)
    } throws: { ($0 as? TrackingError)?.code == .conflict }
    let after = try #require(try await stores.shipments.shipment(number))
    #expect(after.version == 2)
    #expect(try await stores.shipments.remembered(Fixture.key("c")) == nil)
    #expect(try await stores.custody.treeSize() == 2)
  }

  @Test(
    "a refused write leaves nothing: no events, leaves, outbox rows or key",
    arguments: WriteBackend.all
  )
  func atomicity(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    let collected = try Fixture.event(.collected, after: stored.shipment)
    var write = Fixture.writer.write(
      appending: [collected],
      to: stored,
      idempotencyKey: try Fixture.key("x"),
      now: collected.recordedAt
    )
    // A handoff queued twice in one write breaks the outbox's uniqueness inside the commit.
    let ticket = HandoffTicket(
      handoffID: "\(number)-H1",
      agency: stored.shipment.destinationAgency,
      mode: .pull
    )
    write.outbox = [.queue(ticket), .queue(ticket)]
    await #expect(throws: TrackingError.self) { try await stores.shipments.commit(write) }
    #expect(try await stores.shipments.shipment(number)?.version == 1)
    #expect(try await stores.custody.treeSize() == 1)
    #expect(try await stores.handoffs.handoff(id: ticket.handoffID) == nil)
    #expect(try await stores.shipments.remembered(Fixture.key("x")) == nil)
  }

  @Test(
    "commits are ordered per shipment and the log's indexes are contiguous",
    arguments: WriteBackend.all
  )
  func orderingAndContiguity(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    var numbers: [TrackingNumber] = []
    for index in 0 ..< 4 {
      numbers.append(
        try await Fixture.register(stores, key: Fixture.key("r\(index)")).value.shipment
          .trackingNumber
      )
    }
    // Concurrent writers, each retrying on conflict the way the service does.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for (index, number) in numbers.enumerated() {
        for kind in [EventKind.collected, .dispatched, .transitScan] {
          group.addTask {
            while true {
              do {
                _ = try await Fixture.append(
                  kind,
                  to: number,
                  in: stores,
                  key: try Fixture.key("\(index)-\(kind.rawValue)")
                )
                return
              } catch let error as TrackingError where error.code == .conflict {
                continue
              } catch let error as TrackingError where error.code == .illegalTransition {
                // Its predecessor has not landed yet: decide again — unless a sibling failed
                // (its predecessor may never land), which would otherwise spin forever.
                try Task.checkCancellation()
                await Task.yield()
              }
            }
          }
        }
      }
      try await group.waitForAll()
    }
    var indexes: [Int64] = []
    for number in numbers {
      let shipment = try #require(try await stores.shipments.shipment(number))
      #expect(shipment.events.map(\.kind) == [.registered, .collected, .dispatched, .transitScan])
      #expect(shipment.events.map(\.sequence) == [1, 2, 3, 4])
      indexes += shipment.events.compactMap(\.leafIndex)
    }
    #expect(indexes.sorted() == Array(0 ..< 16))
    #expect(try await stores.custody.treeSize() == 16)
  }

  @Test("an unknown number is notFound", arguments: WriteBackend.all)
  func unknown(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let number = try TrackingNumber(validating: "EA000000080VN")
    #expect(try await stores.shipments.shipment(number) == nil)
    await #expect {
      try await Fixture.append(.collected, to: number, in: stores, key: Fixture.key("x"))
    } throws: { ($0 as? TrackingError)?.code == .notFound }
  }

  @Test(
    "everything survives closing and reopening, and numbers are not reused",
    arguments: WriteBackend.all
  )
  func reopen(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    _ = try await Fixture.append(.collected, to: number, in: stores, key: Fixture.key("b"))
    let reopened = try await backend.reopen(stores)
    let shipment = try await reopened.shipments.shipment(number)
    #expect(shipment?.state == .collected)
    #expect(shipment?.events.count == 2)
    let next = try await Fixture.register(reopened, key: Fixture.key("c"))
    #expect(next.value.shipment.trackingNumber.serial > number.serial)
    #expect(try await reopened.shipments.remembered(Fixture.key("b")) != nil)
  }

  @Test(
    "listing pages newest first with ties broken by number, and filters",
    arguments: WriteBackend.all
  )
  func listing(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    var numbers: [TrackingNumber] = []
    for index in 0 ..< 7 {
      // Three share a creation time, to exercise the tie-break.
      let time: Int64 = 1_764_000_000_000_000 + Int64(min(index, 4)) * 1_000_000
      let office = index == 6 ? "251000" : "250000"
      numbers.append(
        try await Fixture.register(
          stores,
          key: Fixture.key("k\(index)"),
          draft: Fixture.draft(now: time, office: office)
        ).value.shipment.trackingNumber
      )
    }
    var query = ShipmentQuery(
      filter: .init(postOffice: try PostOfficeCode(validating: "250000")),
      pageSize: 2
    )
    var seen: [TrackingNumber] = []
    while true {
      let page = try await stores.shipments.shipments(matching: query)
      seen += page.shipments.map(\.trackingNumber)
      guard let next = page.next else { break }
      query.after = next
    }
    #expect(seen == [numbers[5], numbers[4], numbers[3], numbers[2], numbers[1], numbers[0]])
    let window = try await stores.shipments.shipments(
      matching: ShipmentQuery(
        filter: .init(
          createdAtOrAfter: Timestamp(microseconds: 1_764_000_001_000_000),
          createdBefore: Timestamp(microseconds: 1_764_000_003_000_000)
        )
      )
    )
    #expect(window.shipments.map(\.trackingNumber) == [numbers[2], numbers[1]])
  }

  @Test(
    "idempotency records are forgotten after their retention, not before",
    arguments: WriteBackend.all
  )
  func retention(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let created = Timestamp(microseconds: 1_764_000_000_000_000)
    _ = try await Fixture.register(stores, key: Fixture.key("old"))
    let kept = try await stores.shipments.forgetIdempotencyKeys(
      recordedBefore: created,
      limit: 100
    )
    #expect(kept == 0)
    #expect(try await stores.shipments.remembered(Fixture.key("old")) != nil)
    let forgotten = try await stores.shipments.forgetIdempotencyKeys(
      recordedBefore: created.advanced(by: .seconds(1)),
      limit: 100
    )
    #expect(forgotten == 1)
    #expect(try await stores.shipments.remembered(Fixture.key("old")) == nil)
  }

  @Test(
    "a commit that logs custody leaves is published on the feed before it returns",
    arguments: WriteBackend.all
  )
  func custodyCommitsArePublished(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let before = stores.feed.position()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    #expect(stores.feed.hasChanged([.custodyLog], since: before))
    let registered = stores.feed.position()
    _ = try await Fixture.append(.collected, to: number, in: stores, key: Fixture.key("b"))
    #expect(stores.feed.hasChanged([.custodyLog], since: registered))
    #expect(!stores.feed.hasChanged([.outbox, .hops, .alerts], since: before))
  }

  @Test("commits publish what they changed", arguments: WriteBackend.all)
  func notifications(backend: WriteBackend) async throws {
    let stores = try await backend.open()
    let before = stores.feed.position()
    let number = try await Fixture.register(stores, key: Fixture.key("a")).value.shipment
      .trackingNumber
    // Published before the commit returns.
    #expect(stores.feed.hasChanged([.custodyLog], since: before))
    let quiet = stores.feed.position()
    let stored = try #require(try await stores.shipments.shipmentWithCommitment(number))
    let collected = try Fixture.event(.collected, after: stored.shipment)
    var write = Fixture.writer.write(
      appending: [collected],
      to: stored,
      idempotencyKey: nil,
      now: collected.recordedAt
    )
    write.outbox = [
      .queue(
        HandoffTicket(
          handoffID: "\(number)-H1",
          agency: stored.shipment.destinationAgency,
          mode: .pull
        )
      )
    ]
    _ = try await stores.shipments.commit(write)
    #expect(stores.feed.hasChanged([.outbox], since: quiet))
    #expect(!stores.feed.hasChanged([.hops, .alerts], since: quiet), "no hops were written")
    #expect(try await stores.handoffs.handoff(id: "\(number)-H1")?.status == .pending)
  }
}
