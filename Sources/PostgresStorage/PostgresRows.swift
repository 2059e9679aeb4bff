import Foundation
import Logging
import Persistence
import PostgresNIO
import Tracking

/// A row read by column name.
struct Columns {
  let row: PostgresRandomAccessRow

  init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

  subscript<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) -> T {
    get throws { try self.row[name].decode(T.self) }
  }
}

/// How shipments and their events are kept in PostgreSQL rows: the column lists and their
/// decoding in one place (the counterpart of SQLite's `ShipmentRows`), with personal fields
/// sealed exactly as on SQLite (``SealedRecords``).
struct PostgresShipmentRows: Sendable {
  let records: SealedRecords
  let logger: Logger

  /// A new data key, stored wrapped.
  func newKey(on connection: PostgresConnection, now: Timestamp) async throws -> SealedRecords.Key {
    let (key, wrapped) = try self.records.newKey()
    let rows = try await connection.query(
      """
      INSERT INTO data_key (kek_id, wrapped, created_at)
      VALUES (\(wrapped.keyID), \(wrapped.bytes), \(now.microseconds)) RETURNING id
      """,
      logger: self.logger
    )
    for try await id in rows.decode(Int64.self) { return self.records.stored(key, id: id) }
    throw Corruption("a data key was not stored")
  }

  /// The data key with this id; `nil` when it was destroyed.
  func key(_ id: Int64?, on connection: PostgresConnection) async throws -> SealedRecords.Key? {
    guard let id else { return nil }
    let rows = try await connection.query(
      "SELECT kek_id, wrapped FROM data_key WHERE id = \(id)",
      logger: self.logger
    )
    for try await (keyID, wrapped) in rows.decode((String, Data).self) {
      return try self.records.key(id: id, wrapped: WrappedDataKey(keyID: keyID, bytes: wrapped))
    }
    return nil
  }

  /// Inserts a shipment row with its personal fields sealed under a new data key.
  func insert(
    _ shipment: Shipment,
    commitment: CodeCommitment,
    custodySalt: [UInt8],
    on connection: PostgresConnection
  ) async throws -> (id: Int64, key: SealedRecords.Key) {
    let key = try await self.newKey(on: connection, now: shipment.createdAt)
    let sealed = try self.records.seal(shipment, with: key)
    var kind = "counter"
    var province: String?
    var commune: String?
    var windowStart: Int64?
    var windowEnd: Int64?
    if case .home(let address, let window, _) = shipment.pickup {
      kind = "home"
      province = address.province.rawValue
      commune = address.commune.rawValue
      windowStart = window.start.microseconds
      windowEnd = window.end.microseconds
    }
    let rows = try await connection.query(
      """
      INSERT INTO shipment (
        tracking_number, service_type, state, procedure_code, agency_code, origin_post_office,
        applicant_province, applicant_commune, pickup_kind, pickup_province, pickup_commune,
        pickup_window_start, pickup_window_end, code_nonce, code_salt, code_hash,
        created_at, updated_at, version, custody_salt, data_key_id, sealed, notify_channel
      ) VALUES (
        \(shipment.trackingNumber.rawValue), \(shipment.serviceType.rawValue),
        \(shipment.state.rawValue), \(shipment.procedure.rawValue),
        \(shipment.destinationAgency.rawValue), \(shipment.originPostOffice.rawValue),
        \(shipment.applicant.address.province.rawValue),
        \(shipment.applicant.address.commune.rawValue), \(kind), \(province), \(commune),
        \(windowStart), \(windowEnd), \(Data(commitment.nonce)), \(Data(commitment.salt)),
        \(Data(commitment.hash)), \(shipment.createdAt.microseconds),
        \(shipment.updatedAt.microseconds), \(shipment.version), \(Data(custodySalt)),
        \(key.id), \(sealed), \(shipment.notificationChannel.rawValue)
      ) RETURNING id
      """,
      logger: self.logger
    )
    for try await id in rows.decode(Int64.self) { return (id, key) }
    throw Corruption("a shipment row was not stored")
  }

  /// Inserts an event, its note and details sealed under the shipment's data key.
  func insert(
    _ event: ShipmentEvent,
    shipmentID: Int64,
    trackingNumber: String,
    key: SealedRecords.Key?,
    on connection: PostgresConnection
  ) async throws {
    let sealed = try self.records.seal(event, of: trackingNumber, with: key)
    let handover = try event.handover.map(SealedRecords.encode)
    try await connection.query(
      """
      INSERT INTO shipment_event (
        shipment_id, sequence, kind, from_state, to_state, occurred_at, recorded_at, actor,
        location, sealed, handover
      ) VALUES (
        \(shipmentID), \(event.sequence), \(event.kind.rawValue), \(event.fromState?.rawValue),
        \(event.toState.rawValue), \(event.occurredAt.microseconds),
        \(event.recordedAt.microseconds), \(event.actor), \(event.location.rawValue), \(sealed),
        \(handover)
      )
      """,
      logger: self.logger
    )
    if case .scan(let scan) = event.details {
      try await connection.query(
        """
        INSERT INTO scan_document (
          document_code, shipment_id, sequence, document_id, sha256, size, content_type,
          reused_from
        ) VALUES (
          \(scan.documentCode), \(shipmentID), \(event.sequence), \(scan.documentID),
          \(scan.sha256), \(scan.size), \(scan.contentType.rawValue), \(scan.reusedFrom)
        )
        """,
        logger: self.logger
      )
    }
  }

  /// A shipment with its history, code commitment and salt, by row id.
  func loadRegistered(
    id: Int64,
    on connection: PostgresConnection
  ) async throws
    -> RegisteredShipment
  {
    let rows = try await connection.query(
      "SELECT * FROM shipment WHERE id = \(id)",
      logger: self.logger
    )
    var found: PostgresRow?
    for try await row in rows { found = row }
    guard let found else { throw TrackingError.shipmentNotFound() }
    let columns = Columns(found)
    let number: String = try columns["tracking_number"]
    let key = try await self.key(try columns["data_key_id", as: Int64?.self], on: connection)
    // Each statement reads its own snapshot: a write committed after the shipment's row was
    // read may have added events since. Events are append-only and land with the row's
    // version in one transaction, so those up to the row's version are exactly its history.
    let version: Int = try columns["version"]
    let eventRows = try await connection.query(
      """
      SELECT e.*, l.leaf_index FROM shipment_event e
      LEFT JOIN custody_leaf l ON l.tracking_number = \(number) AND l.event_sequence = e.sequence
      WHERE e.shipment_id = \(id) AND e.sequence <= \(version) ORDER BY e.sequence
      """,
      logger: self.logger
    )
    var events: [ShipmentEvent] = []
    for try await row in eventRows {
      events.append(try self.decodeEvent(Columns(row), trackingNumber: number, key: key))
    }
    let shipment = try self.decodeShipment(columns, events: events, key: key)
    guard shipment.version == events.count else {
      throw Corruption(
        "shipment \(number) has version \(shipment.version) but \(events.count) events"
      )
    }
    let nonce: Data = try columns["code_nonce"]
    let salt: Data = try columns["code_salt"]
    let hash: Data = try columns["code_hash"]
    let custodySalt: Data = try columns["custody_salt"]
    return RegisteredShipment(
      shipment: shipment,
      commitment: CodeCommitment(nonce: Array(nonce), salt: Array(salt), hash: Array(hash)),
      custodySalt: Array(custodySalt),
      hops: try await PostgresSlaStore.hops(ofShipment: id, on: connection, logger: self.logger)
    )
  }

  /// A shipment row (with its data key, if any) and its events.
  func decodeShipment(
    _ columns: Columns,
    events: [ShipmentEvent],
    key: SealedRecords.Key?
  ) throws -> Shipment {
    let number: String = try columns["tracking_number"]
    let erasedAt = try columns["erased_at", as: Int64?.self].map(Timestamp.init(microseconds:))
    let province: String = try columns["applicant_province"]
    let commune: String = try columns["applicant_commune"]
    var applicant = Applicant.erased
    var pickupDetail: String?
    if erasedAt == nil {
      guard let sealed = try columns["sealed", as: Data?.self], let key else {
        throw EncryptionError.corrupted("shipment \(number) has no sealed fields or no data key")
      }
      (applicant, pickupDetail) = try self.records.openApplicant(
        sealed,
        of: number,
        province: province,
        commune: commune,
        with: key
      )
    }
    let office = try PostOfficeCode(validating: try columns["origin_post_office"])
    let pickup: Pickup
    switch try columns["pickup_kind", as: String.self] {
    case "counter":
      pickup = .counter(office)
    case "home":
      let address = try Address(
        province: ProvinceCode(validating: try columns["pickup_province"]),
        commune: CommuneCode(validating: try columns["pickup_commune"]),
        detail: BoundedText(validating: pickupDetail ?? "", maximumLength: .max, required: false)
      )
      let window = TimeWindow(
        start: Timestamp(microseconds: try columns["pickup_window_start"]),
        end: Timestamp(microseconds: try columns["pickup_window_end"])
      )
      pickup = .home(address: address, window: window, postOffice: office)
    case let other:
      throw Corruption("unknown pickup kind \(other)")
    }
    var shipment = Shipment(
      trackingNumber: try TrackingNumber(validating: number),
      serviceType: try SealedRecords.decode(try columns["service_type"]),
      state: try SealedRecords.decode(try columns["state"]),
      applicant: applicant,
      procedure: try ProcedureCode(validating: try columns["procedure_code"]),
      destinationAgency: try AgencyCode(validating: try columns["agency_code"]),
      pickup: pickup,
      createdAt: Timestamp(microseconds: try columns["created_at"]),
      updatedAt: Timestamp(microseconds: try columns["updated_at"]),
      version: try columns["version"],
      events: events
    )
    shipment.personalDataErasedAt = erasedAt
    shipment.notificationChannel = try SealedRecords.decode(try columns["notify_channel"])
    return shipment
  }

  /// An event row, its sealed note and details opened (none once erased).
  func decodeEvent(
    _ columns: Columns,
    trackingNumber: String,
    key: SealedRecords.Key?
  ) throws -> ShipmentEvent {
    let sequence: Int = try columns["sequence"]
    var note: String?
    var details: EventDetails?
    if let sealed = try columns["sealed", as: Data?.self], let key {
      (note, details) = try self.records.openEvent(
        sealed,
        of: trackingNumber,
        sequence: sequence,
        with: key
      )
    }
    let from: String? = try columns["from_state"]
    return ShipmentEvent(
      sequence: sequence,
      kind: try SealedRecords.decode(try columns["kind"]),
      fromState: try from.map { try SealedRecords.decode($0) },
      toState: try SealedRecords.decode(try columns["to_state"]),
      occurredAt: Timestamp(microseconds: try columns["occurred_at"]),
      recordedAt: Timestamp(microseconds: try columns["recorded_at"]),
      actor: try columns["actor"],
      location: try PostOfficeCode(validating: try columns["location"]),
      note: note,
      details: details,
      handover: try columns["handover", as: String?.self].map(SealedRecords.decodeHandover),
      leafIndex: try columns["leaf_index"]
    )
  }
}
