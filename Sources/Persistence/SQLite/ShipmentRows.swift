import Foundation
import GRDB
import Tracking

/// How shipments and their events are kept in rows: one place for the column lists and their
/// decoding, used by every SQLite store that reads or writes them.
enum ShipmentRows {
  static func insert(
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
      applicant.name.rawValue, Self.citizenColumn(applicant.identity), applicant.phone.e164,
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
      try ApplicantPayload(applicant).map {
        String(decoding: try Self.encoder.encode($0), as: UTF8.self)
      },
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
          applicant_party
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: arguments
    )
    return db.lastInsertedRowID
  }

  /// The citizen id column: the number of a citizen, empty for a foreigner (whose passport is in
  /// `applicant_party`).
  private static func citizenColumn(_ identity: PersonalIdentity) -> String {
    if case .citizen(let id) = identity { return id.rawValue }
    return ""
  }

  static func insert(_ event: ShipmentEvent, shipmentID: Int64, in db: Database) throws {
    let payload = try event.details.map { try Self.encoder.encode(EventPayload($0)) }
    let handover = try event.handover.map { try Self.encoder.encode(HandoverPayload($0)) }
    try db.cachedStatement(
      sql: """
        INSERT INTO shipment_event (
          shipment_id, sequence, kind, from_state, to_state, occurred_at, recorded_at,
          actor, location, note, payload, handover
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: [
        shipmentID, event.sequence, event.kind.rawValue, event.fromState?.rawValue,
        event.toState.rawValue, event.occurredAt.microseconds, event.recordedAt.microseconds,
        event.actor, event.location.rawValue, event.note,
        payload.map { String(decoding: $0, as: UTF8.self) },
        handover.map { String(decoding: $0, as: UTF8.self) },
      ]
    )
    if case .scan(let scan) = event.details {
      try db.cachedStatement(
        sql: """
          INSERT INTO scan_document (document_code, shipment_id, sequence, document_id, sha256, size, content_type)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          scan.documentCode, shipmentID, event.sequence, scan.documentID, scan.sha256, scan.size,
          scan.contentType.rawValue,
        ]
      )
    }
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
  }()

  static func loadRegistered(id: Int64, in db: Database) throws -> RegisteredShipment {
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
      custodySalt: Array(custodySalt),
      hops: try SQLiteSlaStore.hops(ofShipment: id, in: db)
    )
  }

  static func decodeShipment(_ row: Row, events: [ShipmentEvent]) throws -> Shipment {
    let applicantAddress = try Address(
      province: ProvinceCode(validating: row["applicant_province"]),
      commune: CommuneCode(validating: row["applicant_commune"]),
      detail: BoundedText(
        validating: row["applicant_address"],
        maximumLength: .max,
        required: false
      )
    )
    let name = try PersonName(validating: row["applicant_name"])
    let phone = try MobileNumber(validating: row["applicant_phone"], prefixes: Self.anyPrefix)
    let applicant: Applicant
    if let party = row["applicant_party"] as String? {
      applicant = try JSONDecoder().decode(ApplicantPayload.self, from: Data(party.utf8))
        .applicant(name: name, phone: phone, address: applicantAddress)
    } else {
      applicant = Applicant(
        name: name,
        citizenID: try CitizenID(validating: row["applicant_citizen_id"], currentYear: .max),
        phone: phone,
        address: applicantAddress
      )
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

  static func decodeEvent(_ row: Row) throws -> ShipmentEvent {
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
