import Foundation
import GRDB
import Tracking

/// Crypto-shredding of one shipment's personal data, inside the write that records the
/// erasure. Its data key is destroyed (with `secure_delete` on, its bytes are overwritten in
/// the file), so the sealed fields, notes, details and rating comment no longer open; its
/// blind-index digests go; the keys of its scans go too unless a shipment not erased still has
/// the same file. States, times, places, handover signatures and custody leaves stay: the log
/// holds commitments only, so every proof and receipt still verifies.
enum PersonalDataEraser {
  /// - Returns: The scans (SHA-256) whose keys were destroyed.
  static func erase(
    shipmentID: Int64,
    trackingNumber: String,
    at: Timestamp,
    in db: Database
  ) throws -> [String] {
    let keyID = try Int64.fetchOne(
      db,
      sql: "SELECT data_key_id FROM shipment WHERE id = ?",
      arguments: [shipmentID]
    )
    try db.execute(
      sql: """
        UPDATE shipment SET erased_at = ?, sealed = NULL, data_key_id = NULL,
          applicant_name = '', applicant_citizen_id = '', applicant_phone = '',
          applicant_address = '', applicant_party = NULL,
          pickup_address = CASE WHEN pickup_kind = 'home' THEN '' ELSE NULL END
        WHERE id = ?;
        DELETE FROM person_lookup WHERE shipment_id = ?;
        DELETE FROM person_lookup_pending WHERE shipment_id = ?;
        DELETE FROM seal_pending WHERE shipment_id = ?;
        UPDATE service_rating SET comment = '', sealed = NULL WHERE tracking_number = ?;
        """,
      arguments: [at.microseconds, shipmentID, shipmentID, shipmentID, shipmentID, trackingNumber]
    )
    if let keyID {
      try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [keyID])
    }
    let scans = try String.fetchAll(
      db,
      sql: """
        SELECT DISTINCT d.sha256 FROM scan_document d
        WHERE d.shipment_id = ? AND NOT EXISTS (
          SELECT 1 FROM scan_document o JOIN shipment s ON s.id = o.shipment_id
          WHERE o.sha256 = d.sha256 AND o.shipment_id <> d.shipment_id AND s.erased_at IS NULL)
        """,
      arguments: [shipmentID]
    )
    for sha256 in scans {
      try db.execute(
        sql: """
          DELETE FROM data_key WHERE id = (SELECT data_key_id FROM scan_key WHERE sha256 = ?);
          DELETE FROM scan_key WHERE sha256 = ?;
          """,
        arguments: [sha256, sha256]
      )
    }
    return scans
  }
}
