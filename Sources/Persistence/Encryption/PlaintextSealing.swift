import Foundation
import GRDB
import Tracking

/// Seals the rows written before personal data was sealed (listed in `seal_pending` by the
/// v12 migration): each shipment gets a data key, its fields and its events' notes and details
/// are sealed and the plain values cleared. `secure_delete` overwrites the old bytes in the
/// file. Run at start-up, in batches; an empty table at every start after the first.
enum PlaintextSealing {
  static func sealPending(cipher: FieldCipher, in pool: DatabasePool) throws -> Int {
    var total = 0
    while true {
      let done = try pool.write { db -> Int in
        let ids = try Int64.fetchAll(db, sql: "SELECT shipment_id FROM seal_pending LIMIT 200")
        for id in ids { try Self.seal(shipmentID: id, cipher: cipher, in: db) }
        return ids.count
      }
      total += done
      if done == 0 { return total }
    }
  }

  private static func seal(shipmentID id: Int64, cipher: FieldCipher, in db: Database) throws {
    defer {
      try? db.execute(sql: "DELETE FROM seal_pending WHERE shipment_id = ?", arguments: [id])
    }
    guard
      let row = try Row.fetchOne(db, sql: "SELECT * FROM shipment WHERE id = ?", arguments: [id]),
      row["sealed"] as Data? == nil, row["erased_at"] as Int64? == nil
    else { return }
    let stored = try ShipmentRows.loadRegistered(id: id, cipher: cipher, in: db)
    let shipment = stored.shipment
    let number = shipment.trackingNumber.rawValue
    let key = try cipher.newKey(in: db, now: shipment.createdAt.microseconds)
    let sealed = try cipher.seal(
      try ShipmentRows.encoder.encode(PersonalFields(shipment)),
      with: key,
      context: PersonalFields.context(number)
    )
    try db.execute(
      sql: """
        UPDATE shipment SET data_key_id = ?, sealed = ?, applicant_name = '',
          applicant_citizen_id = '', applicant_phone = '', applicant_address = '',
          applicant_party = NULL,
          pickup_address = CASE WHEN pickup_kind = 'home' THEN '' ELSE NULL END
        WHERE id = ?
        """,
      arguments: [key.id, sealed, id]
    )
    for event in shipment.events where event.note != nil || event.details != nil {
      let secrets = PersonalFields.EventSecrets(
        note: event.note,
        payload: event.details.map(EventPayload.init)
      )
      let sealedEvent = try cipher.seal(
        try ShipmentRows.encoder.encode(secrets),
        with: key,
        context: PersonalFields.eventContext(number, event.sequence)
      )
      try db.execute(
        sql: """
          UPDATE shipment_event SET sealed = ?, note = NULL, payload = NULL
          WHERE shipment_id = ? AND sequence = ?
          """,
        arguments: [sealedEvent, id, event.sequence]
      )
    }
  }
}
