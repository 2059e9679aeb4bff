import Foundation
import GRDB
public import Tracking

/// The ``OfflineSyncStore`` on SQLite: each device's received events and its cursor. An
/// event's payload (the request as the device sent it, applicant data included) is sealed
/// under a data key of its own.
public final class SQLiteOfflineSyncStore: OfflineSyncStore {
  let database: SQLiteDatabase
  let cipher: FieldCipher

  init(database: SQLiteDatabase, cipher: FieldCipher) {
    self.database = database
    self.cipher = cipher
  }

  private static func context(_ device: DeviceKey, _ sequence: Int) -> String {
    Self.context(caller: device.caller, deviceID: device.deviceID, sequence: sequence)
  }

  /// The sealing context of a device event's payload.
  static func context(caller: String, deviceID: String, sequence: Int) -> String {
    "device \(caller) \(deviceID) \(sequence)"
  }

  private func seal(
    _ payload: [UInt8],
    _ device: DeviceKey,
    _ sequence: Int,
    in db: Database
  )
    throws -> (Int64, Data)
  {
    let key = try self.cipher.newKey(in: db, now: Int64(Date().timeIntervalSince1970 * 1_000_000))
    let sealed = try self.cipher.seal(
      Data(payload),
      with: key,
      context: Self.context(device, sequence)
    )
    return (key.id, sealed)
  }

  public func processedThrough(_ device: DeviceKey) async throws -> Int {
    try await self.database.read { db in
      try Int.fetchOne(
        db.cachedStatement(
          sql: "SELECT processed_through FROM device_cursor WHERE caller = ? AND device_id = ?"
        ),
        arguments: [device.caller, device.deviceID]
      ) ?? 0
    }
  }

  public func entry(_ device: DeviceKey, sequence: Int) async throws -> DeviceEntry? {
    try await self.database.read { db in
      guard
        let row = try Row.fetchOne(
          db.cachedStatement(
            sql: "SELECT * FROM device_event WHERE caller = ? AND device_id = ? AND sequence = ?"
          ),
          arguments: [device.caller, device.deviceID, sequence]
        )
      else { return nil }
      let fingerprint: Data = row["fingerprint"]
      var payload: Data = row["payload"]
      if let keyID = row["data_key_id"] as Int64? {
        // A destroyed key (retention over) leaves an empty payload.
        payload =
          try self.cipher.key(keyID, in: db).map {
            try self.cipher.open(payload, with: $0, context: Self.context(device, sequence))
          } ?? Data()
      }
      var outcome: SyncOutcome?
      if let status: String = row["status"] {
        guard let status = SyncOutcome.Status(rawValue: status) else {
          throw Corruption("unknown sync status \(status)")
        }
        outcome = SyncOutcome(
          status: status,
          code: row["code"],
          message: row["message"],
          trackingNumber: row["tracking_number"],
          eventSequence: row["event_sequence"]
        )
      }
      return DeviceEntry(
        sequence: sequence,
        fingerprint: Array(fingerprint),
        payload: Array(payload),
        outcome: outcome
      )
    }
  }

  public func hold(_ device: DeviceKey, entry: DeviceEntry) async throws {
    try await self.database.write { db in
      let (keyID, sealed) = try self.seal(entry.payload, device, entry.sequence, in: db)
      try db.cachedStatement(
        sql: """
          INSERT INTO device_event (caller, device_id, sequence, fingerprint, payload, data_key_id)
          VALUES (?, ?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          device.caller, device.deviceID, entry.sequence, Data(entry.fingerprint), sealed, keyID,
        ]
      )
    }
  }

  public func complete(_ device: DeviceKey, entry: DeviceEntry, now: Timestamp) async throws {
    guard let outcome = entry.outcome else { preconditionFailure("complete() needs an outcome") }
    try await self.database.write { db in
      let processed =
        try Int.fetchOne(
          db.cachedStatement(
            sql: "SELECT processed_through FROM device_cursor WHERE caller = ? AND device_id = ?"
          ),
          arguments: [device.caller, device.deviceID]
        ) ?? 0
      guard entry.sequence == processed + 1 else {
        throw Corruption("device \(device.deviceID) completes \(entry.sequence) after \(processed)")
      }
      let held = try Bool.fetchOne(
        db.cachedStatement(
          sql: "SELECT 1 FROM device_event WHERE caller = ? AND device_id = ? AND sequence = ?"
        ),
        arguments: [device.caller, device.deviceID, entry.sequence]
      )
      if held == nil {
        let (keyID, sealed) = try self.seal(entry.payload, device, entry.sequence, in: db)
        try db.cachedStatement(
          sql: """
            INSERT INTO device_event
              (caller, device_id, sequence, fingerprint, payload, data_key_id, status, code, message,
               tracking_number, event_sequence, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).execute(
          arguments: [
            device.caller, device.deviceID, entry.sequence, Data(entry.fingerprint), sealed, keyID,
            outcome.status.rawValue, outcome.code, outcome.message, outcome.trackingNumber,
            outcome.eventSequence, now.microseconds,
          ]
        )
      } else {
        try db.cachedStatement(
          sql: """
            UPDATE device_event SET status = ?, code = ?, message = ?, tracking_number = ?,
              event_sequence = ?, received_at = ?
            WHERE caller = ? AND device_id = ? AND sequence = ?
            """
        ).execute(
          arguments: [
            outcome.status.rawValue, outcome.code, outcome.message, outcome.trackingNumber,
            outcome.eventSequence, now.microseconds, device.caller, device.deviceID,
            entry.sequence,
          ]
        )
      }
      try db.cachedStatement(
        sql: """
          INSERT INTO device_cursor (caller, device_id, processed_through) VALUES (?, ?, ?)
          ON CONFLICT (caller, device_id) DO UPDATE SET processed_through = excluded.processed_through
          """
      ).execute(
        arguments: [device.caller, device.deviceID, entry.sequence]
      )
    }
  }

  public func heldSequences(
    _ device: DeviceKey,
    through last: Int,
    limit: Int
  ) async throws
    -> [Int]
  {
    try await self.database.read { db in
      try Int.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT sequence FROM device_event
            WHERE caller = ? AND device_id = ? AND status IS NULL AND sequence <= ?
            ORDER BY sequence LIMIT ?
            """
        ),
        arguments: [device.caller, device.deviceID, last, limit]
      )
    }
  }

  public func erasePayloads(receivedBefore before: Timestamp, limit: Int) async throws -> Int {
    try await self.database.write { db in
      let keys = try Int64.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT data_key_id FROM device_event
            WHERE received_at < ? AND data_key_id IS NOT NULL LIMIT ?
            """
        ),
        arguments: [before.microseconds, limit]
      )
      for key in keys {
        try db.execute(sql: "DELETE FROM data_key WHERE id = ?", arguments: [key])
        try db.execute(
          sql: "UPDATE device_event SET data_key_id = NULL, payload = x'' WHERE data_key_id = ?",
          arguments: [key]
        )
      }
      return keys.count
    }
  }
}
