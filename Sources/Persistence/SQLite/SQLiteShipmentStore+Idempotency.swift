import Foundation
import GRDB
import Tracking

// MARK: - Idempotency and serials

extension SQLiteShipmentStore {
  /// What a key was remembered for. Records kept before keys were per caller match any caller.
  func remembered(_ key: IdempotencyKey, in db: Database) throws -> RememberedWrite? {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT fingerprint, shipment_id, first_sequence, version FROM idempotency_key
            WHERE caller IN (?, '') AND request_id = ? ORDER BY caller DESC LIMIT 1
            """
        ),
        arguments: [key.caller, key.requestID.rawValue]
      )
    else { return nil }
    let fingerprint: Data = row["fingerprint"]
    guard Array(fingerprint) == key.fingerprint else { throw TrackingError.requestIDReused() }
    let first: Int = row["first_sequence"]
    let version: Int = row["version"]
    let stored = try ShipmentRows.loadRegistered(
      id: row["shipment_id"],
      cipher: self.cipher,
      in: db
    )
    guard let remembered = RememberedWrite(stored, firstSequence: first, version: version) else {
      throw Corruption("an idempotency record points past the history of a shipment")
    }
    return remembered
  }

  static func remember(
    _ key: IdempotencyKey,
    shipmentID: Int64,
    firstSequence: Int,
    version: Int,
    at time: Timestamp,
    in db: Database
  ) throws {
    try db.cachedStatement(
      sql: """
        INSERT INTO idempotency_key
          (caller, request_id, fingerprint, shipment_id, first_sequence, version, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """
    ).execute(
      arguments: [
        key.caller, key.requestID.rawValue, Data(key.fingerprint), shipmentID, firstSequence,
        version, time.microseconds,
      ]
    )
  }

  static func nextSerial(for indicator: ServiceIndicator, in db: Database) throws -> Int {
    let last =
      try Int.fetchOne(
        db.cachedStatement(
          sql: "SELECT last_serial FROM serial_counter WHERE service_indicator = ?"
        ),
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
    try db.cachedStatement(
      sql: """
        INSERT INTO serial_counter (service_indicator, last_serial) VALUES (?, ?)
        ON CONFLICT (service_indicator) DO UPDATE SET last_serial = excluded.last_serial
        """
    ).execute(
      arguments: [indicator.rawValue, next]
    )
    return next
  }
}
