import Foundation
import GRDB
import Tracking

/// How shipments and their events are kept in rows: one place for the column lists and their
/// decoding, used by every SQLite store that reads or writes them.
enum ShipmentRows {
  /// Inserts a shipment row with its personal fields sealed under a new data key.
  /// - Returns: The row id and the data key (its events' notes and details are sealed under it).
  static func insert(
    _ shipment: Shipment,
    commitment: CodeCommitment,
    custodySalt: [UInt8],
    cipher: FieldCipher,
    in db: Database
  ) throws -> (id: Int64, key: DataKey) {
    let applicant = shipment.applicant
    let key = try cipher.newKey(in: db, now: shipment.createdAt.microseconds)
    let sealed = try cipher.seal(
      try Self.encoder.encode(PersonalFields(shipment)),
      with: key,
      context: PersonalFields.context(shipment.trackingNumber.rawValue)
    )
    var arguments: StatementArguments = [
      shipment.trackingNumber.rawValue, shipment.serviceType.rawValue, shipment.state.rawValue,
      shipment.procedure.rawValue, shipment.destinationAgency.rawValue,
      shipment.originPostOffice.rawValue,
      "", "", "", applicant.address.province.rawValue, applicant.address.commune.rawValue, "",
    ]
    switch shipment.pickup {
    case .counter:
      arguments += ["counter", nil, nil, nil, nil, nil]
    case .home(let address, let window, _):
      arguments += [
        "home", address.province.rawValue, address.commune.rawValue, "",
        window.start.microseconds, window.end.microseconds,
      ]
    }
    arguments += [
      Data(commitment.nonce), Data(commitment.salt), Data(commitment.hash),
      shipment.createdAt.microseconds, shipment.updatedAt.microseconds, shipment.version,
      Data(custodySalt), key.id, sealed, shipment.notificationChannel.rawValue,
    ]
    try db.cachedStatement(
      sql: """
        INSERT INTO shipment (
          tracking_number, service_type, state, procedure_code, agency_code, origin_post_office,
          applicant_name, applicant_citizen_id, applicant_phone,
          applicant_province, applicant_commune, applicant_address,
          pickup_kind, pickup_province, pickup_commune, pickup_address,
          pickup_window_start, pickup_window_end,
          code_nonce, code_salt, code_hash, created_at, updated_at, version, custody_salt,
          data_key_id, sealed, notify_channel
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: arguments
    )
    return (db.lastInsertedRowID, key)
  }

  /// Seals a shipment's personal fields again (its applicant was corrected), with the
  /// province and commune of the new address in their plain columns.
  static func sealApplicant(
    of shipment: Shipment,
    id: Int64,
    key: DataKey,
    cipher: FieldCipher,
    in db: Database
  ) throws {
    let sealed = try cipher.seal(
      try Self.encoder.encode(PersonalFields(shipment)),
      with: key,
      context: PersonalFields.context(shipment.trackingNumber.rawValue)
    )
    try db.cachedStatement(
      sql: """
        UPDATE shipment SET sealed = ?, applicant_province = ?, applicant_commune = ?
        WHERE id = ? AND data_key_id = ?
        """
    ).execute(
      arguments: [
        sealed, shipment.applicant.address.province.rawValue,
        shipment.applicant.address.commune.rawValue, id, key.id,
      ]
    )
  }

  /// The citizen id column: the number of a citizen, empty for a foreigner (whose passport is in
  /// `applicant_party`).
  private static func citizenColumn(_ identity: PersonalIdentity) -> String {
    if case .citizen(let id) = identity { return id.rawValue }
    return ""
  }

  /// Inserts an event; its note and details are sealed under the shipment's data key.
  /// - Throws: ``TrackingError`` `.failedPrecondition` for a note or details on a shipment whose
  ///   personal data was erased (there is no key to seal them under).
  static func insert(
    _ event: ShipmentEvent,
    shipmentID: Int64,
    trackingNumber: String,
    key: DataKey?,
    cipher: FieldCipher,
    in db: Database
  ) throws {
    let sealed = try SealedRecords(cipher: cipher).seal(
      event,
      of: trackingNumber,
      with: key.map(SealedRecords.Key.init(key:))
    )
    let handover = try event.handover.map { try Self.encoder.encode(HandoverPayload($0)) }
    try db.cachedStatement(
      sql: """
        INSERT INTO shipment_event (
          shipment_id, sequence, kind, from_state, to_state, occurred_at, recorded_at,
          actor, location, sealed, handover
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: [
        shipmentID, event.sequence, event.kind.rawValue, event.fromState?.rawValue,
        event.toState.rawValue, event.occurredAt.microseconds, event.recordedAt.microseconds,
        event.actor, event.location.rawValue, sealed,
        handover.map { String(decoding: $0, as: UTF8.self) },
      ]
    )
    if case .scan(let scan) = event.details {
      try db.cachedStatement(
        sql: """
          INSERT INTO scan_document (document_code, shipment_id, sequence, document_id, sha256, size, content_type, reused_from)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          scan.documentCode, shipmentID, event.sequence, scan.documentID, scan.sha256, scan.size,
          scan.contentType.rawValue, scan.reusedFrom,
        ]
      )
    }
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
  }()

  static func loadRegistered(
    id: Int64,
    cipher: FieldCipher,
    in db: Database
  ) throws -> RegisteredShipment {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(sql: "SELECT * FROM shipment WHERE id = ?"),
        arguments: [id]
      )
    else { throw TrackingError.shipmentNotFound() }
    let events = try Row.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT e.*, l.leaf_index FROM shipment_event e
          LEFT JOIN custody_leaf l ON l.shipment_id = e.shipment_id AND l.event_sequence = e.sequence
          WHERE e.shipment_id = ? ORDER BY e.sequence
          """
      ),
      arguments: [id]
    )
    let key = try Self.dataKey(of: row, cipher: cipher, in: db)
    let number: String = row["tracking_number"]
    let decoded = try events.map {
      try Self.decodeEvent($0, trackingNumber: number, key: key, cipher: cipher)
    }
    let shipment = try Self.decodeShipment(row, events: decoded, key: key, cipher: cipher)
    guard shipment.version == decoded.count else {
      throw Corruption(
        "shipment \(shipment.trackingNumber) has version \(shipment.version) but \(decoded.count) events"
      )
    }
    let nonce: Data = row["code_nonce"]
    let salt: Data = row["code_salt"]
    let hash: Data = row["code_hash"]
    let custodySalt: Data = row["custody_salt"]
    return RegisteredShipment(
      shipment: shipment,
      commitment: CodeCommitment(nonce: Array(nonce), salt: Array(salt), hash: Array(hash)),
      custodySalt: Array(custodySalt),
      hops: try SQLiteSlaStore.hops(ofShipment: id, in: db)
    )
  }

  /// The data key of a shipment row; `nil` for a row not sealed yet (written before sealing)
  /// or whose key was destroyed (erased).
  static func dataKey(of row: Row, cipher: FieldCipher, in db: Database) throws -> DataKey? {
    guard let id = row["data_key_id"] as Int64? else { return nil }
    return try cipher.key(id, in: db)
  }

  /// Decodes a shipment row (with its data key, if already looked up).
  static func decodeShipment(
    _ row: Row,
    events: [ShipmentEvent],
    cipher: FieldCipher,
    in db: Database
  ) throws -> Shipment {
    try Self.decodeShipment(
      row,
      events: events,
      key: try Self.dataKey(of: row, cipher: cipher, in: db),
      cipher: cipher
    )
  }

  static func decodeShipment(
    _ row: Row,
    events: [ShipmentEvent],
    key: DataKey?,
    cipher: FieldCipher
  ) throws -> Shipment {
    let number: String = row["tracking_number"]
    let erasedAt = (row["erased_at"] as Int64?).map(Timestamp.init(microseconds:))
    var fields: PersonalFields?
    if erasedAt == nil, let sealed = row["sealed"] as Data? {
      guard let key else { throw EncryptionError.corrupted("shipment \(number) has no data key") }
      fields = try JSONDecoder().decode(
        PersonalFields.self,
        from: try cipher.open(sealed, with: key, context: PersonalFields.context(number))
      )
    }
    let applicant: Applicant
    if erasedAt != nil {
      applicant = .erased
    } else {
      applicant = try Self.decodeApplicant(row, sealed: fields)
    }
    let office = try PostOfficeCode(validating: row["origin_post_office"])
    let pickup: Pickup
    switch row["pickup_kind"] as String {
    case "counter":
      pickup = .counter(office)
    case "home":
      let address = try Address(
        province: ProvinceCode(validating: row["pickup_province"]),
        commune: CommuneCode(validating: row["pickup_commune"]),
        detail: BoundedText(
          validating: fields?.pickupAddress ?? row["pickup_address"],
          maximumLength: .max,
          required: false
        )
      )
      let window = TimeWindow(
        start: Timestamp(microseconds: row["pickup_window_start"]),
        end: Timestamp(microseconds: row["pickup_window_end"])
      )
      pickup = .home(address: address, window: window, postOffice: office)
    case let other:
      throw Corruption("unknown pickup kind \(other)")
    }
    var shipment = Shipment(
      trackingNumber: try TrackingNumber(validating: number),
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
    shipment.personalDataErasedAt = erasedAt
    shipment.notificationChannel = try Self.decodeEnum(row["notify_channel"])
    return shipment
  }

  /// The applicant from the sealed fields, or from the plain columns of a row written before
  /// sealing.
  private static func decodeApplicant(_ row: Row, sealed: PersonalFields?) throws -> Applicant {
    if let sealed {
      return try sealed.applicant(
        province: row["applicant_province"],
        commune: row["applicant_commune"]
      )
    }
    // A row written before sealing: the values in the plain columns.
    let legacy = PersonalFields(
      name: row["applicant_name"],
      citizenID: row["applicant_citizen_id"],
      phone: row["applicant_phone"],
      address: row["applicant_address"],
      pickupAddress: nil,
      party: try (row["applicant_party"] as String?).map {
        try JSONDecoder().decode(ApplicantPayload.self, from: Data($0.utf8))
      }
    )
    return try legacy.applicant(
      province: row["applicant_province"],
      commune: row["applicant_commune"]
    )
  }

  /// Decodes an event row, opening its sealed note and details with the shipment's key (none
  /// when its personal data was erased: the event keeps its kind, states, times and places).
  static func decodeEvent(
    _ row: Row,
    trackingNumber: String,
    key: DataKey?,
    cipher: FieldCipher
  ) throws -> ShipmentEvent {
    let from: String? = row["from_state"]
    var note: String? = row["note"]
    var payload: EventPayload? = try (row["payload"] as String?).map {
      try JSONDecoder().decode(EventPayload.self, from: Data($0.utf8))
    }
    if let sealed = row["sealed"] as Data?, let key {
      let secrets = try JSONDecoder().decode(
        PersonalFields.EventSecrets.self,
        from: try cipher.open(
          sealed,
          with: key,
          context: PersonalFields.eventContext(trackingNumber, row["sequence"])
        )
      )
      note = secrets.note
      payload = secrets.payload
    }
    let details = try payload.map { try $0.details() }
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
      note: note,
      details: details,
      handover: handover,
      leafIndex: row["leaf_index"]
    )
  }

  static func decodeEnum<E: RawRepresentable>(_ raw: String) throws -> E
  where E.RawValue == String {
    guard let value = E(rawValue: raw) else { throw Corruption("unknown \(E.self) \(raw)") }
    return value
  }

  /// Stored phone numbers were validated on the way in; a prefix later withdrawn from the list
  /// must not make them unreadable.
  static let anyPrefix: Set<String> = Set((10 ... 99).map(String.init))
}
