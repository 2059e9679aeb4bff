import Foundation
import Persistence
import Synchronization
import Testing
import Tracking

@Suite("Count and check against the catalog")
struct DossierCheckTests {
  static let procedure = Procedure(
    code: try! ProcedureCode(validating: "1.011442"),
    name: "Sample",
    competence: [.testProvince],
    documents: [
      .init(id: "FORM", name: "Form", form: .original, quantity: 1),
      .init(id: "COPY", name: "Copy", form: .copy, quantity: 2),
      .init(id: "EITHER", name: "Either", form: .any, quantity: 1),
    ],
    processingWorkingDays: 3,
    feeVND: 40000,
    postalEligible: true,
    inPersonOnly: false,
    sameDay: false
  )

  @Test("a complete dossier has nothing missing; an original satisfies a copy")
  func complete() {
    let items = [
      HandedOverItem(documentID: "FORM", form: .original, pages: 1),
      HandedOverItem(documentID: "COPY", form: .copy, pages: 1),
      HandedOverItem(documentID: "COPY", form: .original, pages: 1),
      HandedOverItem(documentID: "EITHER", form: .copy, pages: 3),
    ]
    #expect(DossierCheck.missingItems(items, for: Self.procedure).isEmpty)
  }

  @Test("missing items are exactly the unsatisfied published ones, with the missing quantity")
  func missing() {
    let items = [
      HandedOverItem(documentID: "FORM", form: .copy, pages: 1),
      HandedOverItem(documentID: "COPY", form: .copy, pages: 1),
    ]
    let missing = DossierCheck.missingItems(items, for: Self.procedure)
    #expect(missing.map(\.documentID) == ["FORM", "COPY", "EITHER"])
    #expect(missing.map(\.quantity) == [1, 1, 1])
    #expect(missing[0].form == .original)
  }

  @Test("a catalog refuses inconsistent entries")
  func catalogValidation() throws {
    _ = try ProcedureCatalog(
      version: "1",
      contentHash: "",
      agencies: [.testProvince],
      procedures: [Self.procedure]
    )
    var inPerson = Self.procedure
    inPerson.inPersonOnly = true
    #expect(throws: InvalidValue.self) {
      try ProcedureCatalog(
        version: "1",
        contentHash: "",
        agencies: [.testProvince],
        procedures: [inPerson]
      )
    }
    #expect(throws: InvalidValue.self) {
      try ProcedureCatalog(
        version: "1",
        contentHash: "",
        agencies: [.testProvince],
        procedures: [Self.procedure, Self.procedure]
      )
    }
    var repeated = Self.procedure
    repeated.documents.append(.init(id: "FORM", name: "again", form: .copy, quantity: 1))
    #expect(throws: InvalidValue.self) {
      try ProcedureCatalog(
        version: "1",
        contentHash: "",
        agencies: [.testProvince],
        procedures: [repeated]
      )
    }
    #expect(throws: InvalidValue.self) {
      try ProcedureCatalog(version: "", contentHash: "", agencies: [.testProvince], procedures: [])
    }
  }
}

@Suite("Working days (Monday to Friday stand-in)")
struct WorkingCalendarTests {
  let calendar = MondayToFridayCalendar()

  @Test("weekdays are computed from the date")
  func weekdays() {
    #expect(CivilDate(year: 2026, month: 11, day: 29).isoWeekday == 7)  // a Sunday
    #expect(CivilDate(year: 2026, month: 11, day: 30).isoWeekday == 1)
    #expect(CivilDate(year: 2024, month: 2, day: 29).isoWeekday == 4)
    #expect(
      CivilDate(daysSinceEpoch: CivilDate(year: 2027, month: 2, day: 6).daysSinceEpoch)
        == CivilDate(year: 2027, month: 2, day: 6)
    )
  }

  @Test(
    "working days after a date up to another",
    arguments: [
      ((2026, 11, 16), (2026, 11, 18), 2),  // Monday → Wednesday
      ((2026, 11, 13), (2026, 11, 17), 2),  // Friday → Tuesday
      ((2026, 11, 13), (2026, 11, 16), 1),  // Friday → Monday
      ((2026, 11, 14), (2026, 11, 15), 0),  // Saturday → Sunday
      ((2026, 11, 18), (2026, 11, 16), 0),  // backwards
    ]
  )
  func spacing(from: (Int, Int, Int), to: (Int, Int, Int), expected: Int) {
    let start = CivilDate(year: from.0, month: from.1, day: from.2)
    let end = CivilDate(year: to.0, month: to.1, day: to.2)
    #expect(self.calendar.workingDays(after: start, through: end) == expected)
  }

  @Test("dates are taken in Vietnam time")
  func vietnamDate() {
    // 2025-11-16T20:00:00Z (a Sunday) is already Monday 03:00 in Vietnam.
    let timestamp = Timestamp(microseconds: 1_763_323_200_000_000)
    #expect(timestamp.dateInVietnam == CivilDate(year: 2025, month: 11, day: 17))
  }
}

@Suite("Identity numbers and seals")
struct DeliveryValueTests {
  @Test("identity numbers are validated by paper type and masked")
  func identityNumbers() throws {
    let cccd = try IdentityNumber(
      validating: "019084000123",
      type: .citizenIDCard,
      currentYear: 2026
    )
    #expect(cccd.masked == "019******123")
    #expect(
      try IdentityNumber(validating: "C1234567", type: .passport, currentYear: 2026).masked
        == "C12**567"
    )
    #expect(throws: InvalidValue.self) {
      try IdentityNumber(validating: "099084000123", type: .citizenIDCard, currentYear: 2026)
    }
    #expect(throws: InvalidValue.self) {
      try IdentityNumber(validating: "c12", type: .passport, currentYear: 2026)
    }
  }

  @Test("seal ids and digests")
  func seals() throws {
    #expect(try SealID(validating: "S-000123").rawValue == "S-000123")
    #expect(throws: InvalidValue.self) { try SealID(validating: "") }
    #expect(throws: InvalidValue.self) { try SealID(validating: "s 1") }
    #expect(
      try SHA256Hex.validate(String(repeating: "AB", count: 32))
        == String(repeating: "ab", count: 32)
    )
    #expect(throws: InvalidValue.self) { try SHA256Hex.validate("abc") }
  }

  @Test("scan types are recognized by their signatures")
  func signatures() {
    #expect(ScanContentType.pdf.matchesSignature(Array("%PDF-1.4".utf8)))
    #expect(ScanContentType.png.matchesSignature([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    #expect(ScanContentType.jpeg.matchesSignature([0xFF, 0xD8, 0xFF, 0xE0]))
    #expect(ScanContentType.tiff.matchesSignature([0x49, 0x49, 0x2A, 0x00]))
    #expect(ScanContentType.tiff.matchesSignature([0x4D, 0x4D, 0x00, 0x2A]))
    #expect(!ScanContentType.pdf.matchesSignature([0xFF, 0xD8, 0xFF]))
    #expect(!ScanContentType.png.matchesSignature([]))
  }
}

@Suite("Content-addressed scan storage")
struct FileBlobStoreTests {
  let root = (NSTemporaryDirectory() as NSString).appendingPathComponent(
    "blobs-\(UUID().uuidString)"
  )

  @Test("a committed upload is stored under its SHA-256 once; an aborted one leaves nothing")
  func commitAndAbort() async throws {
    let store = try FileBlobStore(root: self.root)
    let upload = try await store.beginUpload()
    try upload.write(Array("hello ".utf8))
    try upload.write(Array("world".utf8))
    let digest = try upload.finish()
    #expect(digest == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
    #expect(try await upload.commit(sha256: digest))
    let again = try await store.beginUpload()
    try again.write(Array("hello world".utf8))
    #expect(try await !again.commit(sha256: again.finish()))
    let aborted = try await store.beginUpload()
    try aborted.write([1, 2, 3])
    await aborted.abort()
    let tmp = try FileManager.default.contentsOfDirectory(
      atPath: (self.root as NSString).appendingPathComponent("tmp")
    )
    #expect(tmp.isEmpty)
    var read: [UInt8] = []
    try await store.read(sha256: digest) { read += $0 }
    #expect(read == Array("hello world".utf8))
  }

  @Test("a stored file changed on disk is reported as corrupted")
  func corruption() async throws {
    let store = try FileBlobStore(root: self.root)
    let upload = try await store.beginUpload()
    try upload.write(Array("original".utf8))
    let digest = try upload.finish()
    _ = try await upload.commit(sha256: digest)
    try Data("tampered".utf8).write(to: URL(fileURLWithPath: store.path(sha256: digest)))
    await #expect(throws: BlobError.corrupted) { try await store.read(sha256: digest) { _ in } }
    await #expect(throws: BlobError.notFound) {
      try await store.read(sha256: String(repeating: "0", count: 64)) { _ in }
    }
  }
}

@Suite("Offline sync on the SQLite store")
struct OfflineSyncTests {
  let store: any OfflineSyncStore

  init() throws {
    let directory = temporaryTestDirectory("sync")
    self.store = try SQLiteStorage.open(
      path: (directory as NSString).appendingPathComponent("s.sqlite"),
      blobDirectory: (directory as NSString).appendingPathComponent("scans"),
      keys: TestKeys.shared
    ).offline
  }

  static func entry(_ sequence: Int, _ content: UInt8 = 0) -> DeviceEntry {
    DeviceEntry(
      sequence: sequence,
      fingerprint: [UInt8(sequence), content],
      payload: [content],
      outcome: nil
    )
  }

  @Test("events apply in order exactly once across gaps, duplicates and conflicts")
  func ordering() async throws {
    let sync = OfflineSync(store: self.store)
    let device = try DeviceKey(caller: "spiffe://t/staff/250000/a", deviceID: "h1")
    let applied = Mutex<[Int]>([])
    let apply: @Sendable (DeviceEntry) async -> SyncOutcome = { entry in
      applied.withLock { $0.append(entry.sequence) }
      return entry.sequence == 2
        ? .rejected(code: "9", message: "illegal", trackingNumber: nil)
        : .accepted(trackingNumber: "EA000000005VN", eventSequence: 10 + entry.sequence)
    }
    let now = Timestamp(microseconds: 0)
    let three = try await sync.receive(Self.entry(3), from: device, now: now, apply: apply)
    #expect(three.map(\.disposition) == [.held])
    #expect(three[0].missing == [1, 2])
    let four = try await sync.receive(Self.entry(4), from: device, now: now, apply: apply)
    #expect(four[0].missing == [1, 2])
    let one = try await sync.receive(Self.entry(1), from: device, now: now, apply: apply)
    #expect(one.map(\.sequence) == [1])
    #expect(one[0].missing == [2])
    let two = try await sync.receive(Self.entry(2), from: device, now: now, apply: apply)
    #expect(two.map(\.sequence) == [2, 3, 4])
    #expect(two.last?.processedThrough == 4)
    if case .processed(let outcome) = two[0].disposition {
      #expect(outcome.status == .rejected)
    } else {
      Issue.record("2 should be processed")
    }
    let duplicate = try await sync.receive(Self.entry(3), from: device, now: now, apply: apply)
    #expect(
      duplicate[0].disposition
        == .duplicate(.accepted(trackingNumber: "EA000000005VN", eventSequence: 13))
    )
    let conflict = try await sync.receive(Self.entry(3, 7), from: device, now: now, apply: apply)
    #expect(conflict[0].disposition == .conflicting)
    #expect(applied.withLock { $0 } == [1, 2, 3, 4], "each applied once, in order")

    // Devices are independent.
    let other = try DeviceKey(caller: "spiffe://t/staff/250000/a", deviceID: "h2")
    let otherFirst = try await sync.receive(Self.entry(1), from: other, now: now, apply: apply)
    #expect(otherFirst[0].processedThrough == 1)
  }

  @Test("device ids are validated")
  func deviceIDs() {
    #expect(throws: InvalidValue.self) { try DeviceKey(caller: "c", deviceID: "") }
    #expect(throws: InvalidValue.self) { try DeviceKey(caller: "c", deviceID: "a b") }
  }
}
