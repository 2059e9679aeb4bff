import Foundation
import GRDB
public import Tracking

/// The ``ShipmentStore`` on one SQLite file, through GRDB.
///
/// A `DatabasePool` in WAL mode with `synchronous = FULL`, so a write is on disk when the call
/// returns; the schema comes from ``SQLiteShipmentStore/migrator``. Events are append-only: the
/// schema refuses updates and deletes of them.
public final class SQLiteShipmentStore: ShipmentStore {
  private let pool: DatabasePool
  /// Works out the hops written with each append (none: no hops are kept).
  let timekeeper: SlaTimekeeper?

  /// Opens (creating if needed) the store and migrates its schema.
  /// - Parameters:
  ///   - path: The SQLite file.
  ///   - timekeeper: Works out each shipment's hops, written with its events.
  /// - Throws: ``TrackingError`` `.storageFailure` when the file cannot be opened or migrated.
  public init(path: String, timekeeper: SlaTimekeeper? = nil) throws {
    self.timekeeper = timekeeper
    do {
      var configuration = Configuration()
      configuration.prepareDatabase { db in
        try db.execute(sql: "PRAGMA foreign_keys = ON")
      }
      configuration.busyMode = .timeout(10)
      let pool = try DatabasePool(path: path, configuration: configuration)
      // DatabasePool switches to WAL and sets synchronous = NORMAL after prepareDatabase; an
      // acknowledged write must survive a power loss, so the (single) writer goes back to FULL.
      try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
      }
      try Self.migrator.migrate(pool)
      self.pool = pool
    } catch let error as TrackingError {
      throw error
    } catch {
      throw TrackingError.storageFailure(error)
    }
  }

  /// The writer connection's `synchronous` setting (2 = FULL), for checks.
  public func synchronousMode() throws -> Int {
    try self.pool.writeWithoutTransaction { db in
      try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
    }
  }

  /// The journal mode (`wal`), for checks.
  public func journalMode() throws -> String {
    try self.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
  }

  // MARK: - ShipmentStore

  public func register(
    _ draft: ShipmentDraft,
    serviceIndicator: ServiceIndicator,
    commitment: CodeCommitment,
    idempotencyKey: IdempotencyKey
  ) async throws -> StoreOutcome<RegisteredShipment> {
    try await self.write { db in
      if let replay = try Self.replay(idempotencyKey, in: db) {
        // The registration is version 1 of the shipment.
        let stored = try Self.loadRegistered(id: replay.shipmentID, in: db)
        // A key remembered for a later version belongs to events, not to a registration.
        guard replay.firstSequence == 1 else { throw TrackingError.requestIDReused() }
        return .replayed(
          RegisteredShipment(
            shipment: stored.shipment.asOf(version: 1),
            commitment: stored.commitment,
            custodySalt: stored.custodySalt
          )
        )
      }
      let serial = try Self.nextSerial(for: serviceIndicator, in: db)
      let number = TrackingNumber(serviceIndicator: serviceIndicator, serial: serial)
      let shipment = draft.shipment(number: number)
      let id = try Self.insert(
        shipment,
        commitment: commitment,
        custodySalt: draft.custodySalt,
        in: db
      )
      for event in shipment.events {
        try Self.insert(event, shipmentID: id, in: db)
        try Self.appendLeaf(
          CustodyEntry.encode(event, of: shipment, salt: draft.custodySalt),
          shipmentID: id,
          sequence: event.sequence,
          in: db
        )
      }
      try Self.remember(
        idempotencyKey,
        shipmentID: id,
        firstSequence: 1,
        version: 1,
        at: draft.now,
        in: db
      )
      return .applied(
        RegisteredShipment(
          shipment: shipment,
          commitment: commitment,
          custodySalt: draft.custodySalt
        )
      )
    }
  }

  public func append(
    to number: TrackingNumber,
    idempotencyKey: IdempotencyKey,
    decide: @escaping @Sendable (Shipment) throws -> [ShipmentEvent]
  ) async throws -> StoreOutcome<AppendedEvents> {
    try await self.write { db in
      if let replay = try Self.replay(idempotencyKey, in: db) {
        let stored = try Self.loadRegistered(id: replay.shipmentID, in: db).shipment
        // A replayed key belongs to this number (the fingerprint covers it) and to events.
        guard stored.trackingNumber == number, replay.firstSequence > 1 else {
          throw TrackingError.requestIDReused()
        }
        guard replay.version <= stored.version, replay.firstSequence <= replay.version else {
          throw Corruption("idempotency record points past the history of \(number)")
        }
        let earlier = stored.asOf(version: replay.version)
        return .replayed(
          AppendedEvents(
            shipment: earlier,
            events: Array(earlier.events[(replay.firstSequence - 1)...])
          )
        )
      }
      guard let id = try Self.shipmentID(number, in: db) else {
        throw TrackingError.shipmentNotFound()
      }
      let registered = try Self.loadRegistered(id: id, in: db)
      var shipment = registered.shipment
      let events = try decide(shipment)
      guard let last = events.last else {
        return .applied(AppendedEvents(shipment: shipment, events: []))
      }
      for (offset, event) in events.enumerated() {
        precondition(
          event.sequence == shipment.version + offset + 1,
          "events are numbered without gaps"
        )
        try Self.insert(event, shipmentID: id, in: db)
        try Self.appendLeaf(
          CustodyEntry.encode(event, of: shipment, salt: registered.custodySalt),
          shipmentID: id,
          sequence: event.sequence,
          in: db
        )
        // The outbox moves with the events, in this same transaction.
        try Self.updateOutbox(for: event, shipmentID: id, in: db)
      }
      try db.execute(
        sql: "UPDATE shipment SET state = ?, version = ?, updated_at = ? WHERE id = ?",
        arguments: [last.toState.rawValue, last.sequence, last.recordedAt.microseconds, id]
      )
      try Self.remember(
        idempotencyKey,
        shipmentID: id,
        firstSequence: events[0].sequence,
        version: last.sequence,
        at: last.recordedAt,
        in: db
      )
      shipment.events += events
      shipment.version = last.sequence
      shipment.state = last.toState
      shipment.updatedAt = last.recordedAt
      // The hops move with the events, in this same transaction.
      if let timekeeper = self.timekeeper {
        try Self.updateHops(
          timekeeper.hops(of: shipment),
          shipmentID: id,
          now: last.recordedAt,
          in: db
        )
      }
      return .applied(AppendedEvents(shipment: shipment, events: events))
    }
  }

  /// The scan with this document code, and its shipment's number.
  public func scan(documentCode: String) async throws -> (TrackingNumber, Scan)? {
    try await self.read { db in
      guard
        let row = try Row.fetchOne(
          db,
          sql: """
            SELECT s.tracking_number, d.document_id, d.sha256, d.size, d.content_type
            FROM scan_document d JOIN shipment s ON s.id = d.shipment_id WHERE d.document_code = ?
            """,
          arguments: [documentCode]
        )
      else { return nil }
      let scan = Scan(
        documentID: row["document_id"],
        documentCode: documentCode,
        sha256: row["sha256"],
        size: row["size"],
        contentType: try EventPayload.decode(row["content_type"])
      )
      return (try TrackingNumber(validating: row["tracking_number"]), scan)
    }
  }

  public func shipment(_ number: TrackingNumber) async throws -> Shipment? {
    try await self.shipmentWithCommitment(number)?.shipment
  }

  public func shipmentWithCommitment(_ number: TrackingNumber) async throws -> RegisteredShipment? {
    try await self.read { db in
      guard let id = try Self.shipmentID(number, in: db) else { return nil }
      return try Self.loadRegistered(id: id, in: db)
    }
  }

  public func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage {
    try await self.read { db in
      var clauses: [String] = []
      var arguments = StatementArguments()
      if let state = query.filter.state {
        clauses.append("state = ?")
        arguments += [state.rawValue]
      }
      if let office = query.filter.postOffice {
        clauses.append("origin_post_office = ?")
        arguments += [office.rawValue]
      }
      if let after = query.filter.createdAtOrAfter {
        clauses.append("created_at >= ?")
        arguments += [after.microseconds]
      }
      if let before = query.filter.createdBefore {
        clauses.append("created_at < ?")
        arguments += [before.microseconds]
      }
      if let cursor = query.after {
        clauses.append("(created_at < ? OR (created_at = ? AND tracking_number < ?))")
        arguments += [
          cursor.createdAt.microseconds, cursor.createdAt.microseconds,
          cursor.trackingNumber.rawValue,
        ]
      }
      let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT * FROM shipment \(whereClause)
          ORDER BY created_at DESC, tracking_number DESC LIMIT ?
          """,
        arguments: arguments + [query.pageSize + 1]
      )
      var shipments = try rows.prefix(query.pageSize).map {
        try Self.decodeShipment($0, events: [])
      }
      let hasMore = rows.count > query.pageSize
      let next =
        hasMore
        ? shipments.last.map {
          ShipmentQuery.Cursor(createdAt: $0.createdAt, trackingNumber: $0.trackingNumber)
        } : nil
      shipments = Array(shipments)
      return ShipmentPage(shipments: shipments, next: next)
    }
  }

  // MARK: - Transactions

  /// The row id of a shipment, or `nil`.
  static func shipmentID(_ number: TrackingNumber, in db: Database) throws -> Int64? {
    try Int64.fetchOne(
      db,
      sql: "SELECT id FROM shipment WHERE tracking_number = ?",
      arguments: [number.rawValue]
    )
  }

  func write<T: Sendable>(
    _ body: @escaping @Sendable (Database) throws -> T
  ) async throws -> T {
    do {
      return try await self.pool.write(body)
    } catch let error as TrackingError {
      throw error
    } catch {
      throw TrackingError.storageFailure(error)
    }
  }

  func read<T: Sendable>(
    _ body: @escaping @Sendable (Database) throws -> T
  ) async throws -> T {
    do {
      return try await self.pool.read(body)
    } catch let error as TrackingError {
      throw error
    } catch {
      throw TrackingError.storageFailure(error)
    }
  }
}

// MARK: - Rows

extension SQLiteShipmentStore {
  private struct Replay {
    var shipmentID: Int64
    var firstSequence: Int
    var version: Int
  }

  private static func replay(_ key: IdempotencyKey, in db: Database) throws -> Replay? {
    guard
      let row = try Row.fetchOne(
        db,
        sql:
          """
          SELECT fingerprint, shipment_id, first_sequence, version FROM idempotency_record
          WHERE request_id = ?
          """,
        arguments: [key.requestID.rawValue]
      )
    else { return nil }
    let fingerprint: Data = row["fingerprint"]
    guard Array(fingerprint) == key.fingerprint else { throw TrackingError.requestIDReused() }
    return Replay(
      shipmentID: row["shipment_id"],
      firstSequence: row["first_sequence"],
      version: row["version"]
    )
  }

  private static func remember(
    _ key: IdempotencyKey,
    shipmentID: Int64,
    firstSequence: Int,
    version: Int,
    at time: Timestamp,
    in db: Database
  ) throws {
    try db.execute(
      sql: """
        INSERT INTO idempotency_record
          (request_id, fingerprint, shipment_id, first_sequence, version, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        key.requestID.rawValue, Data(key.fingerprint), shipmentID, firstSequence, version,
        time.microseconds,
      ]
    )
  }

  private static func nextSerial(for indicator: ServiceIndicator, in db: Database) throws -> Int {
    let last =
      try Int.fetchOne(
        db,
        sql: "SELECT last_serial FROM serial_counter WHERE service_indicator = ?",
        arguments: [indicator.rawValue]
      ) ?? -1
    let next = last + 1
    guard next >= 0 else { throw Corruption("negative serial counter for \(indicator)") }
    guard next <= TrackingNumber.maximumSerial else {
      throw TrackingError(
        code: .exhausted,
        message: "every serial of service indicator \(indicator) has been used"
      )
    }
    try db.execute(
      sql: """
        INSERT INTO serial_counter (service_indicator, last_serial) VALUES (?, ?)
        ON CONFLICT (service_indicator) DO UPDATE SET last_serial = excluded.last_serial
        """,
      arguments: [indicator.rawValue, next]
    )
    return next
  }

  private static func insert(
    _ shipment: Shipment,
    commitment: CodeCommitment,
    custodySalt: [UInt8],
    in db: Database
  ) throws -> Int64 {
    let applicant = shipment.applicant
    var arguments: StatementArguments = [
      shipment.trackingNumber.rawValue, shipment.serviceType.rawValue, shipment.state.rawValue,
      shipment.procedure.rawValue, shipment.destinationAgency.rawValue,
      shipment.originPostOffice.rawValue,
      applicant.name.rawValue, applicant.citizenID.rawValue, applicant.phone.e164,
      applicant.address.province.rawValue, applicant.address.commune.rawValue,
      applicant.address.detail.rawValue,
    ]
    switch shipment.pickup {
    case .counter:
      arguments += ["counter", nil, nil, nil, nil, nil]
    case .home(let address, let window, _):
      arguments += [
        "home", address.province.rawValue, address.commune.rawValue, address.detail.rawValue,
        window.start.microseconds, window.end.microseconds,
      ]
    }
    arguments += [
      Data(commitment.nonce), Data(commitment.salt), Data(commitment.hash),
      shipment.createdAt.microseconds, shipment.updatedAt.microseconds, shipment.version,
      Data(custodySalt),
    ]
    try db.execute(
      sql: """
        INSERT INTO shipment (
          tracking_number, service_type, state, procedure_code, agency_code, origin_post_office,
          applicant_name, applicant_citizen_id, applicant_phone,
          applicant_province, applicant_commune, applicant_address,
          pickup_kind, pickup_province, pickup_commune, pickup_address,
          pickup_window_start, pickup_window_end,
          code_nonce, code_salt, code_hash, created_at, updated_at, version, custody_salt
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: arguments
    )
    return db.lastInsertedRowID
  }

  private static func insert(_ event: ShipmentEvent, shipmentID: Int64, in db: Database) throws {
    let payload = try event.details.map { try Self.encoder.encode(EventPayload($0)) }
    let handover = try event.handover.map { try Self.encoder.encode(HandoverPayload($0)) }
    try db.execute(
      sql: """
        INSERT INTO shipment_event (
          shipment_id, sequence, kind, from_state, to_state, occurred_at, recorded_at,
          actor, location, note, payload, handover
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        shipmentID, event.sequence, event.kind.rawValue, event.fromState?.rawValue,
        event.toState.rawValue, event.occurredAt.microseconds, event.recordedAt.microseconds,
        event.actor, event.location.rawValue, event.note,
        payload.map { String(decoding: $0, as: UTF8.self) },
        handover.map { String(decoding: $0, as: UTF8.self) },
      ]
    )
    if case .scan(let scan) = event.details {
      try db.execute(
        sql: """
          INSERT INTO scan_document (document_code, shipment_id, sequence, document_id, sha256, size, content_type)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          scan.documentCode, shipmentID, event.sequence, scan.documentID, scan.sha256, scan.size,
          scan.contentType.rawValue,
        ]
      )
    }
  }

  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
  }()

  private static func loadRegistered(id: Int64, in db: Database) throws -> RegisteredShipment {
    guard
      let row = try Row.fetchOne(db, sql: "SELECT * FROM shipment WHERE id = ?", arguments: [id])
    else { throw TrackingError.shipmentNotFound() }
    let events = try Row.fetchAll(
      db,
      sql: "SELECT * FROM shipment_event WHERE shipment_id = ? ORDER BY sequence",
      arguments: [id]
    ).map(Self.decodeEvent)
    let shipment = try Self.decodeShipment(row, events: events)
    guard shipment.version == events.count else {
      throw Corruption(
        "shipment \(shipment.trackingNumber) has version \(shipment.version) but \(events.count) events"
      )
    }
    let nonce: Data = row["code_nonce"]
    let salt: Data = row["code_salt"]
    let hash: Data = row["code_hash"]
    let custodySalt: Data = row["custody_salt"]
    return RegisteredShipment(
      shipment: shipment,
      commitment: CodeCommitment(nonce: Array(nonce), salt: Array(salt), hash: Array(hash)),
      custodySalt: Array(custodySalt)
    )
  }

  private static func decodeShipment(_ row: Row, events: [ShipmentEvent]) throws -> Shipment {
    let applicantAddress = try Address(
      province: ProvinceCode(validating: row["applicant_province"]),
      commune: CommuneCode(validating: row["applicant_commune"]),
      detail: BoundedText(
        validating: row["applicant_address"],
        maximumLength: .max,
        required: false
      )
    )
    let applicant = try Applicant(
      name: PersonName(validating: row["applicant_name"]),
      citizenID: CitizenID(validating: row["applicant_citizen_id"], currentYear: .max),
      phone: MobileNumber(validating: row["applicant_phone"], prefixes: Self.anyPrefix),
      address: applicantAddress
    )
    let office = try PostOfficeCode(validating: row["origin_post_office"])
    let pickup: Pickup
    switch row["pickup_kind"] as String {
    case "counter":
      pickup = .counter(office)
    case "home":
      let address = try Address(
        province: ProvinceCode(validating: row["pickup_province"]),
        commune: CommuneCode(validating: row["pickup_commune"]),
        detail: BoundedText(validating: row["pickup_address"], maximumLength: .max, required: false)
      )
      let window = TimeWindow(
        start: Timestamp(microseconds: row["pickup_window_start"]),
        end: Timestamp(microseconds: row["pickup_window_end"])
      )
      pickup = .home(address: address, window: window, postOffice: office)
    case let other:
      throw Corruption("unknown pickup kind \(other)")
    }
    return Shipment(
      trackingNumber: try TrackingNumber(validating: row["tracking_number"]),
      serviceType: try Self.decodeEnum(row["service_type"]),
      state: try Self.decodeEnum(row["state"]),
      applicant: applicant,
      procedure: try ProcedureCode(validating: row["procedure_code"]),
      destinationAgency: try AgencyCode(validating: row["agency_code"]),
      pickup: pickup,
      createdAt: Timestamp(microseconds: row["created_at"]),
      updatedAt: Timestamp(microseconds: row["updated_at"]),
      version: row["version"],
      events: events
    )
  }

  private static func decodeEvent(_ row: Row) throws -> ShipmentEvent {
    let from: String? = row["from_state"]
    let payload: String? = row["payload"]
    let details = try payload.map {
      try JSONDecoder().decode(EventPayload.self, from: Data($0.utf8)).details()
    }
    let handoverText: String? = row["handover"]
    let handover = try handoverText.map {
      try JSONDecoder().decode(HandoverPayload.self, from: Data($0.utf8)).record()
    }
    return ShipmentEvent(
      sequence: row["sequence"],
      kind: try Self.decodeEnum(row["kind"]),
      fromState: try from.map { try Self.decodeEnum($0) },
      toState: try Self.decodeEnum(row["to_state"]),
      occurredAt: Timestamp(microseconds: row["occurred_at"]),
      recordedAt: Timestamp(microseconds: row["recorded_at"]),
      actor: row["actor"],
      location: try PostOfficeCode(validating: row["location"]),
      note: row["note"],
      details: details,
      handover: handover
    )
  }

  private static func decodeEnum<E: RawRepresentable>(_ raw: String) throws -> E
  where E.RawValue == String {
    guard let value = E(rawValue: raw) else { throw Corruption("unknown \(E.self) \(raw)") }
    return value
  }

  /// Stored phone numbers were validated on the way in; a prefix later withdrawn from the list
  /// must not make them unreadable.
  private static let anyPrefix: Set<String> = Set((10 ... 99).map(String.init))
}

/// Stored data that the domain refuses: reported as a storage failure, never a crash.
struct Corruption: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
