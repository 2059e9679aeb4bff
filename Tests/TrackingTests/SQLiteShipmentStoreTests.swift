import Foundation
import Persistence
import Testing
import Tracking

@Suite("SQLite shipment store")
struct SQLiteShipmentStoreTests {
  let path: String

  init() throws {
    let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "store-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    self.path = (directory as NSString).appendingPathComponent("test.sqlite")
  }

  static func draft(
    now: Int64 = 1_764_000_000_000_000,
    office: String = "250000"
  ) throws -> ShipmentDraft {
    let address = Address(
      province: try ProvinceCode(validating: "19"),
      commune: try CommuneCode(validating: "05500"),
      detail: try BoundedText(validating: "12 Lương Ngọc Quyến", maximumLength: 200, required: true)
    )
    return ShipmentDraft(
      serviceType: .dossierAndResult,
      applicant: Applicant(
        name: try PersonName(validating: "Nguyễn Văn An"),
        citizenID: try CitizenID(validating: "019084000123", currentYear: 2026),
        phone: try MobileNumber(validating: "0912345678"),
        address: address
      ),
      procedure: try ProcedureCode(validating: "1.001234"),
      destinationAgency: try AgencyCode(validating: "000.00.00.H55"),
      pickup: .counter(try PostOfficeCode(validating: office)),
      actor: "spiffe://test/staff/250000/clerk-01",
      now: Timestamp(microseconds: now),
      custodySalt: Array(repeating: 9, count: 16)
    )
  }

  static func key(_ id: String, _ fingerprint: UInt8 = 1) throws -> IdempotencyKey {
    IdempotencyKey(requestID: try RequestID(validating: id), fingerprint: [fingerprint])
  }

  static let commitment = CodeCommitment(nonce: [1, 2], salt: [3, 4], hash: [5, 6])
  static let indicator = try! ServiceIndicator(validating: "EA")  // a valid literal

  /// The event a staff member would record next, decided from the stored shipment.
  static func next(_ kind: EventKind) -> @Sendable (Shipment) throws -> [ShipmentEvent] {
    { shipment in
      var machine = ShipmentLifecycle(state: shipment.state)
      guard case .moved(let from, let to) = machine.apply(kind) else {
        throw TrackingError.illegalTransition(kind, in: shipment.state)
      }
      return [
        ShipmentEvent(
          sequence: shipment.version + 1,
          kind: kind,
          fromState: from,
          toState: to,
          occurredAt: shipment.updatedAt,
          recordedAt: shipment.updatedAt.advanced(by: .seconds(1)),
          actor: "spiffe://test/staff/250000/clerk-01",
          location: shipment.originPostOffice,
          note: nil
        )
      ]
    }
  }

  @Test("commits are durable: WAL with synchronous = FULL")
  func durableSettings() throws {
    let store = try SQLiteShipmentStore(path: self.path)
    #expect(try store.journalMode() == "wal")
    #expect(try store.synchronousMode() == 2)
  }

  @Test("registration mints consecutive numbers and stores the registration event")
  func registration() async throws {
    let store = try SQLiteShipmentStore(path: self.path)
    let first = try await store.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("a")
    )
    let second = try await store.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("b")
    )
    #expect(first.value.shipment.trackingNumber.rawValue == "EA000000005VN")
    #expect(second.value.shipment.trackingNumber.serial == 1)
    let loaded = try await store.shipmentWithCommitment(first.value.shipment.trackingNumber)
    #expect(loaded == first.value)
    #expect(loaded?.shipment.events.map(\.kind) == [.registered])
  }

  @Test("a replayed key returns the original; a different fingerprint is requestIDReused")
  func idempotency() async throws {
    let store = try SQLiteShipmentStore(path: self.path)
    let original = try await store.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("a")
    )
    let number = original.value.shipment.trackingNumber
    _ = try await store.append(
      to: number,
      idempotencyKey: Self.key("e1"),
      decide: Self.next(.collected)
    )
    let replay = try await store.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("a")
    )
    #expect(replay.isReplay)
    #expect(replay.value == original.value)
    await #expect {
      try await store.register(
        Self.draft(),
        serviceIndicator: Self.indicator,
        commitment: Self.commitment,
        idempotencyKey: Self.key("a", 2)
      )
    } throws: { ($0 as? TrackingError)?.code == .requestIDReused }
    // The event's key cannot be replayed as a registration either.
    await #expect {
      try await store.register(
        Self.draft(),
        serviceIndicator: Self.indicator,
        commitment: Self.commitment,
        idempotencyKey: Self.key("e1")
      )
    } throws: { ($0 as? TrackingError)?.code == .requestIDReused }
    let eventReplay = try await store.append(
      to: number,
      idempotencyKey: Self.key("e1"),
      decide: Self.next(.dispatched)
    )
    #expect(eventReplay.isReplay)
    #expect(eventReplay.value.events.map(\.kind) == [.collected])
    #expect(eventReplay.value.shipment.version == 2)
    let page = try await store.shipments(matching: ShipmentQuery())
    #expect(page.shipments.count == 1)
  }

  @Test("a decision that throws appends nothing and remembers no key")
  func refusedDecisionWritesNothing() async throws {
    let store = try SQLiteShipmentStore(path: self.path)
    let number = try await store.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("a")
    ).value.shipment.trackingNumber
    await #expect {
      try await store.append(
        to: number,
        idempotencyKey: Self.key("x"),
        decide: Self.next(.dispatched)
      )
    } throws: { ($0 as? TrackingError)?.code == .illegalTransition }
    let shipment = try await store.shipment(number)
    #expect(shipment?.version == 1)
    #expect(shipment?.state == .requested)
    // The key was not remembered: the same key may now carry a legal event.
    let applied = try await store.append(
      to: number,
      idempotencyKey: Self.key("x"),
      decide: Self.next(.collected)
    )
    #expect(!applied.isReplay)
  }

  @Test("an unknown number is notFound")
  func unknown() async throws {
    let store = try SQLiteShipmentStore(path: self.path)
    let number = try TrackingNumber(validating: "EA000000080VN")
    #expect(try await store.shipment(number) == nil)
    await #expect {
      try await store.append(
        to: number,
        idempotencyKey: Self.key("x"),
        decide: Self.next(.collected)
      )
    } throws: { ($0 as? TrackingError)?.code == .notFound }
  }

  @Test("events are append-only in the schema itself")
  func eventsAreAppendOnly() async throws {
    let store = try SQLiteShipmentStore(path: self.path)
    _ = try await store.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("a")
    )
    for sql in ["UPDATE shipment_event SET note = 'x'", "DELETE FROM shipment_event"] {
      let result = try Self.sqlite(self.path, sql)
      #expect(result.contains("append-only"), "\(sql): \(result)")
    }
  }

  @Test("everything survives closing and reopening the file")
  func reopen() async throws {
    let number: TrackingNumber
    do {
      let store = try SQLiteShipmentStore(path: self.path)
      number = try await store.register(
        Self.draft(),
        serviceIndicator: Self.indicator,
        commitment: Self.commitment,
        idempotencyKey: Self.key("a")
      ).value.shipment.trackingNumber
      _ = try await store.append(
        to: number,
        idempotencyKey: Self.key("b"),
        decide: Self.next(.collected)
      )
    }
    let reopened = try SQLiteShipmentStore(path: self.path)
    let shipment = try await reopened.shipment(number)
    #expect(shipment?.state == .collected)
    #expect(shipment?.events.count == 2)
    let next = try await reopened.register(
      Self.draft(),
      serviceIndicator: Self.indicator,
      commitment: Self.commitment,
      idempotencyKey: Self.key("c")
    )
    #expect(next.value.shipment.trackingNumber.serial == number.serial + 1)
  }

  @Test("listing pages newest first with ties broken by number, and filters")
  func listing() async throws {
    let store = try SQLiteShipmentStore(path: self.path)
    var numbers: [TrackingNumber] = []
    for index in 0 ..< 7 {
      // Three share a creation time, to exercise the tie-break.
      let time: Int64 = 1_764_000_000_000_000 + Int64(min(index, 4)) * 1_000_000
      let office = index == 6 ? "251000" : "250000"
      numbers.append(
        try await store.register(
          Self.draft(now: time, office: office),
          serviceIndicator: Self.indicator,
          commitment: Self.commitment,
          idempotencyKey: Self.key("k\(index)")
        ).value.shipment.trackingNumber
      )
    }
    var query = ShipmentQuery(
      filter: .init(postOffice: try PostOfficeCode(validating: "250000")),
      pageSize: 2
    )
    var seen: [TrackingNumber] = []
    while true {
      let page = try await store.shipments(matching: query)
      seen += page.shipments.map(\.trackingNumber)
      guard let next = page.next else { break }
      query.after = next
    }
    #expect(seen == [numbers[5], numbers[4], numbers[3], numbers[2], numbers[1], numbers[0]])
    let window = try await store.shipments(
      matching: ShipmentQuery(
        filter: .init(
          createdAtOrAfter: Timestamp(microseconds: 1_764_000_001_000_000),
          createdBefore: Timestamp(microseconds: 1_764_000_003_000_000)
        )
      )
    )
    #expect(window.shipments.map(\.trackingNumber) == [numbers[2], numbers[1]])
  }

  /// Runs SQL with the sqlite3 command-line tool, as an operator (or an attacker) would.
  static func sqlite(_ path: String, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sqlite3", path, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    process.waitUntilExit()
    return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  }
}
