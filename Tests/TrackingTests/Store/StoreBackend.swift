import Foundation
import Persistence
import PostgresStorage
import Synchronization
import Tracking

/// A storage backend the contract suite runs against. Every backend passes the same tests;
/// PostgreSQL will be a second entry in ``all``.
struct StoreBackend: Sendable, CustomStringConvertible {
  var description: String
  /// Opens fresh, empty stores.
  var open: @Sendable () async throws -> Stores
  /// Opens the same stores again (after a restart), if the backend keeps state.
  var reopen: @Sendable (Stores) async throws -> Stores

  static let sqlite: StoreBackend = {
    let directories = DirectoryRegistry()
    return StoreBackend(
      description: "SQLite",
      open: {
        let directory = temporaryTestDirectory("store")
        let stores = try SQLiteStorage.open(
          path: (directory as NSString).appendingPathComponent("test.sqlite"),
          blobDirectory: (directory as NSString).appendingPathComponent("scans"),
          keys: TestKeys.shared
        )
        directories.remember(stores.feed, directory)
        return stores
      },
      reopen: { stores in
        let directory = directories.directory(of: stores.feed)
        return try SQLiteStorage.open(
          path: (directory as NSString).appendingPathComponent("test.sqlite"),
          blobDirectory: (directory as NSString).appendingPathComponent("scans"),
          keys: TestKeys.shared
        )
      }
    )
  }()

  /// Every store on a fresh PostgreSQL database, as a replica opens them.
  static let postgres: StoreBackend = {
    let locations = MutexBox<[ObjectIdentifier: PostgresLocation]>([:])
    @Sendable func open(_ location: PostgresLocation) async throws -> Stores {
      let opened = try await PostgresStorage.open(
        location,
        keys: TestKeys.shared,
        spool: temporaryTestDirectory("spool"),
        maximumConnections: 4
      )
      locations.update { $0[ObjectIdentifier(opened.stores.feed)] = location }
      return opened.stores
    }
    return StoreBackend(
      description: "PostgreSQL",
      open: { try await open(try await PostgresTestDatabase.create()) },
      reopen: { stores in
        try await open(locations.read { $0[ObjectIdentifier(stores.feed)]! })
      }
    )
  }()

  /// Every backend available in this run.
  static let all: [StoreBackend] =
    [.sqlite] + (PostgresTestDatabase.enabled ? [.postgres] : [])
}

/// Which folder each opened SQLite store lives in (keyed by its feed, which is unique).
private final class DirectoryRegistry: Sendable {
  private let folders = MutexBox<[ObjectIdentifier: String]>([:])

  func remember(_ feed: ChangeFeed, _ directory: String) {
    self.folders.update { $0[ObjectIdentifier(feed)] = directory }
  }

  func directory(of feed: ChangeFeed) -> String {
    // Only stores this registry opened are reopened.
    self.folders.read { $0[ObjectIdentifier(feed)]! }
  }
}

/// A new empty folder under the system's temporary directory.
func temporaryTestDirectory(_ prefix: String) -> String {
  let path = (NSTemporaryDirectory() as NSString).appendingPathComponent(
    "\(prefix)-\(UUID().uuidString)"
  )
  // Creating a folder under the temporary directory only fails if the machine is broken.
  try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// What the contract tests write with: the domain's own write path, without the service.
enum Fixture {
  static let indicator = try! ServiceIndicator(validating: "EA")  // a valid literal
  static let commitment = CodeCommitment(nonce: [1, 2], salt: [3, 4], hash: [5, 6])
  static let clerk = "spiffe://test/staff/250000/clerk-01"
  static let writer = ShipmentWriter(timekeeper: nil)

  static func draft(
    now: Int64 = 1_764_000_000_000_000,
    office: String = "250000"
  ) throws
    -> ShipmentDraft
  {
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
      actor: Self.clerk,
      now: Timestamp(microseconds: now),
      custodySalt: Array(repeating: 9, count: 16)
    )
  }

  static func key(
    _ id: String,
    _ fingerprint: UInt8 = 1,
    caller: String = Self.clerk
  ) throws
    -> IdempotencyKey
  {
    IdempotencyKey(
      requestID: try RequestID(validating: id),
      caller: caller,
      fingerprint: [fingerprint]
    )
  }

  /// Registers a shipment as the service does: the store mints the number.
  static func register(
    _ stores: Stores,
    key: IdempotencyKey,
    draft: ShipmentDraft? = nil
  ) async throws -> StoreOutcome<RegisteredShipment> {
    try await Self.register(stores.writePath, key: key, draft: draft)
  }

  /// Registers a shipment on a backend's write path.
  static func register(
    _ stores: WritePath,
    key: IdempotencyKey,
    draft: ShipmentDraft? = nil
  ) async throws -> StoreOutcome<RegisteredShipment> {
    let draft = try draft ?? Self.draft()
    return try await stores.shipments.register(indicator: Self.indicator, idempotencyKey: key) {
      number in
      Self.writer.registration(
        draft.shipment(number: number),
        commitment: Self.commitment,
        custodySalt: draft.custodySalt,
        idempotencyKey: key
      )
    }
  }

  /// The next event of `kind` on the stored shipment, as a staff member would record it.
  static func event(
    _ kind: EventKind,
    after shipment: Shipment,
    details: EventDetails? = nil
  )
    throws -> ShipmentEvent
  {
    var machine = ShipmentLifecycle(state: shipment.state)
    guard case .moved(let from, let to) = machine.apply(kind) else {
      throw TrackingError.illegalTransition(kind, in: shipment.state)
    }
    return ShipmentEvent(
      sequence: shipment.version + 1,
      kind: kind,
      fromState: from,
      toState: to,
      occurredAt: shipment.updatedAt,
      recordedAt: shipment.updatedAt.advanced(by: .seconds(1)),
      actor: Self.clerk,
      location: shipment.originPostOffice,
      note: nil,
      details: details
    )
  }

  /// Reads the shipment, decides one event on it and commits it.
  static func append(
    _ kind: EventKind,
    to number: TrackingNumber,
    in stores: Stores,
    key: IdempotencyKey?,
    details: EventDetails? = nil
  ) async throws -> StoreOutcome<AppendedEvents> {
    try await Self.append(kind, to: number, in: stores.writePath, key: key, details: details)
  }

  /// The same, on a backend's write path.
  static func append(
    _ kind: EventKind,
    to number: TrackingNumber,
    in stores: WritePath,
    key: IdempotencyKey?,
    details: EventDetails? = nil
  ) async throws -> StoreOutcome<AppendedEvents> {
    guard let stored = try await stores.shipments.shipmentWithCommitment(number) else {
      throw TrackingError.shipmentNotFound()
    }
    let event = try Self.event(kind, after: stored.shipment, details: details)
    return try await stores.shipments.commit(
      Self.writer.write(appending: [event], to: stored, idempotencyKey: key, now: event.recordedAt)
    )
  }
}

/// A value behind a lock, for test bookkeeping.
final class MutexBox<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>

  init(_ value: Value) { self.mutex = Mutex(value) }

  func read<T>(_ body: (Value) -> T) -> T { self.mutex.withLock { body($0) } }

  func update(_ body: (inout Value) -> Void) { self.mutex.withLock { body(&$0) } }
}
