import Foundation
import GRDB
public import Tracking

/// The ``OfflineSyncStore`` on SQLite: each device's received events and its cursor.
public final class SQLiteOfflineSyncStore: OfflineSyncStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
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
      let payload: Data = row["payload"]
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
      try db.cachedStatement(
        sql: """
          INSERT INTO device_event (caller, device_id, sequence, fingerprint, payload)
          VALUES (?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          device.caller, device.deviceID, entry.sequence, Data(entry.fingerprint),
          Data(entry.payload),
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
      try db.cachedStatement(
        sql: """
          INSERT INTO device_event
            (caller, device_id, sequence, fingerprint, payload, status, code, message, tracking_number,
             event_sequence, received_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (caller, device_id, sequence) DO UPDATE SET
            status = excluded.status, code = excluded.code, message = excluded.message,
            tracking_number = excluded.tracking_number, event_sequence = excluded.event_sequence,
            received_at = excluded.received_at
          """
      ).execute(
        arguments: [
          device.caller, device.deviceID, entry.sequence, Data(entry.fingerprint),
          Data(entry.payload),
          outcome.status.rawValue, outcome.code, outcome.message, outcome.trackingNumber,
          outcome.eventSequence,
          now.microseconds,
        ]
      )
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
}
