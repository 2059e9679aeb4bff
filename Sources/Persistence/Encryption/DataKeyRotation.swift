import Foundation
import GRDB
public import Tracking

/// The data-key rotation: every value sealed under a data key created before the rotation
/// began is sealed again under a fresh key, and the old key destroyed. A shipment (its fields,
/// its events' notes and details, its rating comment) or a device event moves in one
/// transaction, a scan in one rename, so every value is readable at every step; the rotation
/// is kept in `data_key_rotation` and resumes after a crash.
extension KeyRotation {
  /// Starts replacing the data keys created before `cutoff` (a later call moves the cutoff).
  public func beginDataKeyRotation(createdBefore cutoff: Timestamp) async throws {
    try await self.database.write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO data_key_rotation (id, created_before) VALUES (1, ?)",
        arguments: [cutoff.microseconds]
      )
    }
  }

  /// How many data keys in use (by shipments, device events and scans) wait to be replaced.
  public func dataKeysToReplace() async throws -> Int {
    try await self.database.read { db in
      guard let cutoff = try Self.cutoff(in: db) else { return 0 }
      return try Int.fetchOne(
        db,
        sql: """
          SELECT (SELECT count(*) FROM shipment JOIN data_key ON data_key.id = shipment.data_key_id
                  WHERE data_key.created_at < :cutoff)
               + (SELECT count(*) FROM device_event
                  JOIN data_key ON data_key.id = device_event.data_key_id
                  WHERE data_key.created_at < :cutoff)
               + (SELECT count(*) FROM scan_key JOIN data_key ON data_key.id = scan_key.data_key_id
                  WHERE data_key.created_at < :cutoff)
          """,
        arguments: ["cutoff": cutoff]
      ) ?? 0
    }
  }

  /// Re-encrypts up to `limit` shipments, device events and scans under new keys.
  /// - Returns: How many moved (0: the rotation is over, and its record is cleared).
  public func reencryptBatch(limit: Int = 100, now: Timestamp) async throws -> Int {
    let (rows, cutoff) = try await self.database.write { db -> (Int, Int64?) in
      guard let cutoff = try Self.cutoff(in: db) else { return (0, nil) }
      let shipments = try self.reencryptShipments(before: cutoff, limit: limit, now: now, in: db)
      let devices = try self.reencryptDeviceEvents(before: cutoff, limit: limit, now: now, in: db)
      return (shipments + devices, cutoff)
    }
    guard let cutoff else { return 0 }
    var scans = 0
    if let blobs = self.blobs, let keys = blobs.keyring as? SQLiteBlobKeys {
      for scan in try await keys.sealed(before: cutoff, limit: limit) {
        try await blobs.reseal(sha256: scan.sha256, bound: scan.keyID)
        scans += 1
      }
    }
    if rows + scans == 0 {
      try await self.database.write { db in
        // Only the rotation that is over: a newer one may have moved the cutoff meanwhile.
        try db.execute(
          sql: "DELETE FROM data_key_rotation WHERE created_before = ?",
          arguments: [cutoff]
        )
      }
    }
    return rows + scans
  }

  private static func cutoff(in db: Database) throws -> Int64? {
    try Int64.fetchOne(db, sql: "SELECT created_before FROM data_key_rotation WHERE id = 1")
  }

  private func reencryptShipments(
    before cutoff: Int64,
    limit: Int,
    now: Timestamp,
    in db: Database
  ) throws -> Int {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT shipment.id, shipment.tracking_number, shipment.data_key_id, shipment.sealed
        FROM shipment JOIN data_key ON data_key.id = shipment.data_key_id
        WHERE data_key.created_at < ? LIMIT ?
        """,
      arguments: [cutoff, limit]
    )
    for row in rows {
      let id: Int64 = row["id"]
      let number: String = row["tracking_number"]
      guard let old = try self.cipher.key(row["data_key_id"], in: db) else { continue }
      let new = try self.cipher.newKey(in: db, now: now.microseconds)
      func reseal(_ sealed: Data, _ context: String) throws -> Data {
        try self.cipher.seal(
          try self.cipher.open(sealed, with: old, context: context),
          with: new,
          context: context
        )
      }
      let fields = try (row["sealed"] as Data?).map {
        try reseal($0, PersonalFields.context(number))
      }
      try db.execute(
        sql: "UPDATE shipment SET data_key_id = ?, sealed = coalesce(?, sealed) WHERE id = ?",
        arguments: [new.id, fields, id]
      )
      for event in try Row.fetchAll(
        db,
        sql:
          "SELECT sequence, sealed FROM shipment_event WHERE shipment_id = ? AND sealed IS NOT NULL",
        arguments: [id]
      ) {
        let sequence: Int = event["sequence"]
        try db.execute(
          sql: "UPDATE shipment_event SET sealed = ? WHERE shipment_id = ? AND sequence = ?",
          arguments: [
            try reseal(event["sealed"], PersonalFields.eventContext(number, sequence)), id,
            sequence,
          ]
        )
      }
      if let comment = try Data.fetchOne(
        db,
        sql: "SELECT sealed FROM service_rating WHERE tracking_number = ? AND sealed IS NOT NULL",
        arguments: [number]
      ) {
        try db.execute(
          sql: "UPDATE service_rating SET sealed = ? WHERE tracking_number = ?",
          arguments: [try reseal(comment, SQLiteRatingStore.context(number)), number]
        )
      }
      try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [old.id])
    }
    return rows.count
  }

  private func reencryptDeviceEvents(
    before cutoff: Int64,
    limit: Int,
    now: Timestamp,
    in db: Database
  ) throws -> Int {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT caller, device_id, sequence, payload, data_key_id FROM device_event
        JOIN data_key ON data_key.id = device_event.data_key_id
        WHERE data_key.created_at < ? LIMIT ?
        """,
      arguments: [cutoff, limit]
    )
    for row in rows {
      guard let old = try self.cipher.key(row["data_key_id"], in: db) else { continue }
      let new = try self.cipher.newKey(in: db, now: now.microseconds)
      let context = SQLiteOfflineSyncStore.context(
        caller: row["caller"],
        deviceID: row["device_id"],
        sequence: row["sequence"]
      )
      let payload = try self.cipher.seal(
        try self.cipher.open(row["payload"], with: old, context: context),
        with: new,
        context: context
      )
      try db.execute(
        sql: """
          UPDATE device_event SET payload = ?, data_key_id = ?
          WHERE caller = ? AND device_id = ? AND sequence = ?
          """,
        arguments: [payload, new.id, row["caller"], row["device_id"], row["sequence"]]
      )
      try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [old.id])
    }
    return rows.count
  }
}
