import Foundation
import GRDB
public import Tracking

/// The ``ShipmentStore`` on SQLite: commits each ``ShipmentWrite`` in one durable transaction
/// (events, custody leaves, outbox, hops, alerts, idempotency record), after checking the
/// shipment's version and the key. Events are append-only: the schema refuses updates and
/// deletes of them.
public final class SQLiteShipmentStore: ShipmentStore {
  let database: SQLiteDatabase
  let cipher: FieldCipher

  init(database: SQLiteDatabase, cipher: FieldCipher) {
    self.database = database
    self.cipher = cipher
  }

  public func register(
    indicator: ServiceIndicator,
    idempotencyKey key: IdempotencyKey,
    build: @escaping @Sendable (TrackingNumber) throws -> ShipmentRegistration
  ) async throws -> StoreOutcome<RegisteredShipment> {
    try await self.database.write(publishing: [.custodyLog]) { db in
      if let replay = try self.remembered(key, in: db) {
        guard case .registration(let earlier) = replay else {
          throw TrackingError.requestIDReused()
        }
        return .replayed(earlier)
      }
      let serial = try Self.nextSerial(for: indicator, in: db)
      let registration = try build(TrackingNumber(serviceIndicator: indicator, serial: serial))
      let shipment = registration.shipment
      let (id, dataKey) = try ShipmentRows.insert(
        shipment,
        commitment: registration.commitment,
        custodySalt: registration.custodySalt,
        cipher: self.cipher,
        in: db
      )
      if let consent = registration.consent {
        try SQLiteNotificationStore.record(consent, shipmentID: id, in: db)
      }
      if registration.lookupDigests.isEmpty {
        try db.cachedStatement(
          sql: "INSERT INTO person_lookup_pending (shipment_id) VALUES (?)"
        ).execute(arguments: [id])
      }
      for digest in registration.lookupDigests {
        try db.cachedStatement(
          sql: "INSERT OR IGNORE INTO person_lookup (digest, shipment_id) VALUES (?, ?)"
        ).execute(arguments: [digest, id])
      }
      let indexes = try SQLiteCustodyStore.append(
        registration.custodyLeaves,
        shipmentID: id,
        in: db
      )
      var stored = shipment
      for (position, event) in shipment.events.enumerated() {
        try ShipmentRows.insert(
          event,
          shipmentID: id,
          trackingNumber: shipment.trackingNumber.rawValue,
          key: dataKey,
          cipher: self.cipher,
          in: db
        )
        stored.events[position].leafIndex = indexes[position]
      }
      try Self.remember(
        registration.idempotencyKey,
        shipmentID: id,
        firstSequence: 1,
        version: shipment.version,
        at: shipment.createdAt,
        in: db
      )
      return .applied(
        RegisteredShipment(
          shipment: stored,
          commitment: registration.commitment,
          custodySalt: registration.custodySalt
        )
      )
    }
  }

  public func indexApplicants(
    _ digests: @escaping @Sendable (Applicant) -> [String]
  ) async throws -> Int {
    try await self.database.write { db in
      // Only the shipments registered without digests wait here: an empty table at most
      // start-ups, not a scan of every shipment.
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT shipment.* FROM person_lookup_pending
          JOIN shipment ON shipment.id = person_lookup_pending.shipment_id
          """
      )
      for row in rows {
        let shipment = try ShipmentRows.decodeShipment(
          row,
          events: [],
          cipher: self.cipher,
          in: db
        )
        for digest in digests(shipment.applicant) {
          try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO person_lookup (digest, shipment_id) VALUES (?, ?)"
          ).execute(arguments: [digest, row["id"] as Int64])
        }
      }
      try db.execute(sql: "DELETE FROM person_lookup_pending")
      return rows.count
    }
  }

  public func commit(_ write: ShipmentWrite) async throws -> StoreOutcome<AppendedEvents> {
    var topics: Set<StoreTopic> = []
    if !write.custodyLeaves.isEmpty { topics.insert(.custodyLog) }
    if !write.outbox.isEmpty { topics.insert(.outbox) }
    if write.hops != nil { topics.insert(.hops) }
    if !write.alerts.isEmpty { topics.insert(.alerts) }
    if !write.notifications.isEmpty || write.consent != nil { topics.insert(.notifications) }
    return try await self.database.write(publishing: topics) { db in
      try self.apply(write, in: db)
    }
  }

  /// Gives the shipment its agency dossier codes, refusing one another shipment has.
  static func claim(_ codes: [DossierCode], shipmentID: Int64, in db: Database) throws {
    for code in codes {
      let owner = try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT shipment_id FROM dossier_code WHERE code = ?"),
        arguments: [code.rawValue]
      )
      switch owner {
      case nil:
        try db.cachedStatement(sql: "INSERT INTO dossier_code (code, shipment_id) VALUES (?, ?)")
          .execute(
            arguments: [code.rawValue, shipmentID]
          )
      case shipmentID:
        continue
      default:
        throw TrackingError(
          code: .duplicate,
          message: "accepted.dossier_code: the agency already gave this code to another shipment"
        )
      }
    }
  }

  /// Applies one write inside the caller's transaction.
  func apply(_ write: ShipmentWrite, in db: Database) throws -> StoreOutcome<AppendedEvents> {
    if let key = write.idempotencyKey, let replay = try self.remembered(key, in: db) {
      guard case .events(let earlier) = replay,
        earlier.shipment.trackingNumber == write.trackingNumber
      else { throw TrackingError.requestIDReused() }
      return .replayed(earlier)
    }
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: "SELECT id, version, data_key_id FROM shipment WHERE tracking_number = ?"
        ),
        arguments: [write.trackingNumber.rawValue]
      )
    else { throw TrackingError.shipmentNotFound() }
    let id: Int64 = row["id"]
    guard row["version"] == write.expectedVersion else { throw TrackingError.conflict() }
    try Self.claim(write.dossierCodes, shipmentID: id, in: db)
    let indexes = try SQLiteCustodyStore.append(write.custodyLeaves, shipmentID: id, in: db)
    var events = write.events
    // The key is unwrapped only when an event has something to seal.
    let needsKey = events.contains { $0.note != nil || $0.details != nil }
    let dataKey = try needsKey ? ShipmentRows.dataKey(of: row, cipher: self.cipher, in: db) : nil
    for position in events.indices {
      try ShipmentRows.insert(
        events[position],
        shipmentID: id,
        trackingNumber: write.trackingNumber.rawValue,
        key: dataKey,
        cipher: self.cipher,
        in: db
      )
      events[position].leafIndex = indexes[position]
    }
    if let dataKey, write.events.contains(where: \.correctsApplicant) {
      try ShipmentRows.sealApplicant(
        of: write.shipment,
        id: id,
        key: dataKey,
        cipher: self.cipher,
        in: db
      )
    }
    if let digests = write.lookupDigests {
      try Self.replaceLookupDigests(digests, shipmentID: id, in: db)
    }
    try SQLiteHandoffStore.apply(write.outbox, shipmentID: id, at: write.committedAt, in: db)
    try SQLiteNotificationStore.queue(
      write.notifications,
      shipmentID: id,
      at: write.committedAt,
      in: db
    )
    if let consent = write.consent {
      try SQLiteNotificationStore.record(consent, shipmentID: id, in: db)
      try db.cachedStatement(sql: "UPDATE shipment SET notify_channel = ? WHERE id = ?")
        .execute(arguments: [consent.channel.rawValue, id])
    }
    if let last = events.last {
      try db.cachedStatement(
        sql: "UPDATE shipment SET state = ?, version = ?, updated_at = ? WHERE id = ?"
      ).execute(
        arguments: [last.toState.rawValue, last.sequence, last.recordedAt.microseconds, id]
      )
    }
    if let hops = write.hops {
      try SQLiteSlaStore.replaceHops(hops, shipmentID: id, in: db)
    }
    if let commitment = write.newCommitment {
      try db.cachedStatement(
        sql: "UPDATE shipment SET code_nonce = ?, code_salt = ?, code_hash = ? WHERE id = ?"
      ).execute(
        arguments: [
          Data(commitment.nonce), Data(commitment.salt), Data(commitment.hash), id,
        ]
      )
    }
    try SQLiteSlaStore.raise(write.alerts, shipmentID: id, at: write.committedAt, in: db)
    var erasedScans: [String] = []
    if write.erasesPersonalData {
      erasedScans = try PersonalDataEraser.erase(
        shipmentID: id,
        trackingNumber: write.trackingNumber.rawValue,
        at: write.committedAt,
        in: db
      )
    }
    if let key = write.idempotencyKey, let first = events.first, let last = events.last {
      try Self.remember(
        key,
        shipmentID: id,
        firstSequence: first.sequence,
        version: last.sequence,
        at: write.committedAt,
        in: db
      )
    }
    // The shipment after the write, as the caller decided it, without re-reading its history.
    var shipment = write.shipment
    shipment.events.replaceSubrange((shipment.events.count - events.count)..., with: events)
    if write.erasesPersonalData {
      shipment.applicant = .erased
      shipment.personalDataErasedAt = write.committedAt
      for position in shipment.events.indices {
        shipment.events[position].note = nil
        shipment.events[position].details = nil
      }
    }
    return .applied(
      AppendedEvents(shipment: shipment, events: events, erasedScans: erasedScans)
    )
  }

  /// The digests staff find the shipment by, replaced.
  private static func replaceLookupDigests(
    _ digests: [String],
    shipmentID id: Int64,
    in db: Database
  ) throws {
    try db.cachedStatement(sql: "DELETE FROM person_lookup WHERE shipment_id = ?")
      .execute(arguments: [id])
    try db.cachedStatement(sql: "DELETE FROM person_lookup_pending WHERE shipment_id = ?")
      .execute(arguments: [id])
    for digest in digests {
      try db.cachedStatement(
        sql: "INSERT OR IGNORE INTO person_lookup (digest, shipment_id) VALUES (?, ?)"
      ).execute(arguments: [digest, id])
    }
  }

  public func remembered(_ key: IdempotencyKey) async throws -> RememberedWrite? {
    try await self.database.read { db in try self.remembered(key, in: db) }
  }

  public func forgetIdempotencyKeys(
    recordedBefore before: Timestamp,
    limit: Int
  ) async throws
    -> Int
  {
    try await self.database.write { db in
      try db.cachedStatement(
        sql: """
          DELETE FROM idempotency_key WHERE (caller, request_id) IN (
            SELECT caller, request_id FROM idempotency_key WHERE created_at < ?
            ORDER BY created_at LIMIT ?)
          """
      ).execute(
        arguments: [before.microseconds, limit]
      )
      return db.changesCount
    }
  }

  public func dueForErasure(
    registeredBefore before: Timestamp,
    limit: Int
  ) async throws
    -> [TrackingNumber]
  {
    let final = ShipmentState.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }
    return try await self.database.read { db in
      try String.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT tracking_number FROM shipment
            WHERE created_at < ? AND erased_at IS NULL AND state IN (\(final.joined(separator: ", ")))
            ORDER BY created_at LIMIT ?
            """
        ),
        arguments: [before.microseconds, limit]
      ).map { try TrackingNumber(validating: $0) }
    }
  }

  public func probeWrite(now: Timestamp) async throws {
    try await self.database.write { db in
      try db.cachedStatement(
        sql: "INSERT OR REPLACE INTO health_probe (id, probed_at) VALUES (1, ?)"
      ).execute(
        arguments: [now.microseconds]
      )
    }
  }

  // MARK: - Reads

  public func shipment(_ number: TrackingNumber) async throws -> Shipment? {
    try await self.shipmentWithCommitment(number)?.shipment
  }

  public func shipmentWithCommitment(_ number: TrackingNumber) async throws -> RegisteredShipment? {
    try await self.database.read { db in
      guard let id = try SQLiteDatabase.shipmentID(number, in: db) else { return nil }
      return try ShipmentRows.loadRegistered(id: id, cipher: self.cipher, in: db)
    }
  }

  public func scan(documentCode: String) async throws -> (TrackingNumber, Scan)? {
    try await self.database.read { db in
      guard
        let row = try Row.fetchOne(
          db.cachedStatement(
            sql: """
              SELECT s.tracking_number, d.document_id, d.sha256, d.size, d.content_type, d.reused_from
              FROM scan_document d JOIN shipment s ON s.id = d.shipment_id WHERE d.document_code = ?
              """
          ),
          arguments: [documentCode]
        )
      else { return nil }
      let scan = Scan(
        documentID: row["document_id"],
        documentCode: documentCode,
        sha256: row["sha256"],
        size: row["size"],
        contentType: try EventPayload.decode(row["content_type"]),
        reusedFrom: row["reused_from"]
      )
      return (try TrackingNumber(validating: row["tracking_number"]), scan)
    }
  }

  public func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage {
    try await self.database.read { db in
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
      if let person = query.filter.person {
        clauses.append("id IN (SELECT shipment_id FROM person_lookup WHERE digest = ?)")
        arguments += [person]
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
        db.cachedStatement(
          sql: """
            SELECT * FROM shipment \(whereClause)
            ORDER BY created_at DESC, tracking_number DESC LIMIT ?
            """
        ),
        arguments: arguments + [query.pageSize + 1]
      )
      let shipments = try rows.prefix(query.pageSize).map {
        try ShipmentRows.decodeShipment($0, events: [], cipher: self.cipher, in: db)
      }
      let next =
        rows.count > query.pageSize
        ? shipments.last.map {
          ShipmentQuery.Cursor(createdAt: $0.createdAt, trackingNumber: $0.trackingNumber)
        } : nil
      return ShipmentPage(shipments: shipments, next: next)
    }
  }
}
