import Foundation
import Logging
public import Persistence
import PostgresNIO
public import Tracking

/// The ``OfflineSyncStore`` on PostgreSQL: each handheld's received requests and its cursor.
/// A request's payload (applicant data included) is sealed under a data key of its own, as on
/// SQLite. A device's cursor row is locked while a request completes, so two replicas
/// receiving one device's batch advance it one step at a time.
public struct PostgresOfflineSyncStore: OfflineSyncStore {
  let pool: PostgresPool
  let rows: PostgresShipmentRows

  /// A store on a migrated database, sealing payloads under keys wrapped by `keys`.
  public init(pool: PostgresPool, keys: any KeyEncryptionKeys) {
    self.pool = pool
    self.rows = PostgresShipmentRows(records: SealedRecords(keys: keys), logger: pool.logger)
  }

  var logger: Logger { self.pool.logger }

  private static func context(_ device: DeviceKey, _ sequence: Int) -> String {
    SealedRecords.deviceContext(
      caller: device.caller,
      deviceID: device.deviceID,
      sequence: sequence
    )
  }

  private func seal(
    _ entry: DeviceEntry,
    of device: DeviceKey,
    on connection: PostgresConnection
  ) async throws -> (keyID: Int64, sealed: Data) {
    let now = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
    let key = try await self.rows.newKey(on: connection, now: now)
    let sealed = try self.rows.records.seal(
      Data(entry.payload),
      context: Self.context(device, entry.sequence),
      with: key
    )
    return (key.id, sealed)
  }

  private func processed(
    _ device: DeviceKey,
    on connection: PostgresConnection,
    locking: Bool
  ) async throws -> Int {
    let rows = try await connection.query(
      """
      SELECT processed_through FROM device_cursor
      WHERE caller = \(device.caller) AND device_id = \(device.deviceID)
      \(unescaped: locking ? "FOR UPDATE" : "")
      """,
      logger: self.logger
    )
    for try await processed in rows.decode(Int.self) { return processed }
    return 0
  }

  public func processedThrough(_ device: DeviceKey) async throws -> Int {
    try await self.pool.withConnection { connection in
      try await self.processed(device, on: connection, locking: false)
    }
  }

  public func entry(_ device: DeviceKey, sequence: Int) async throws -> DeviceEntry? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT fingerprint, payload, data_key_id, status, code, message, tracking_number,
          event_sequence
        FROM device_event
        WHERE caller = \(device.caller) AND device_id = \(device.deviceID)
          AND sequence = \(sequence)
        """,
        logger: self.logger
      )
      for try await row in rows {
        let c = Columns(row)
        var payload: Data = try c["payload"]
        if let keyID = try c["data_key_id", as: Int64?.self] {
          // A destroyed key (retention over) leaves an empty payload.
          payload =
            try await self.rows.key(keyID, on: connection).map {
              try self.rows.records.open(
                payload,
                context: Self.context(device, sequence),
                with: $0
              )
            } ?? Data()
        }
        var outcome: SyncOutcome?
        if let status = try c["status", as: String?.self] {
          guard let status = SyncOutcome.Status(rawValue: status) else {
            throw Corruption("unknown sync status \(status)")
          }
          outcome = SyncOutcome(
            status: status,
            code: try c["code", as: String?.self],
            message: try c["message", as: String?.self],
            trackingNumber: try c["tracking_number", as: String?.self],
            eventSequence: try c["event_sequence", as: Int?.self]
          )
        }
        return DeviceEntry(
          sequence: sequence,
          fingerprint: Array(try c["fingerprint", as: Data.self]),
          payload: Array(payload),
          outcome: outcome
        )
      }
      return nil
    }
  }

  public func hold(_ device: DeviceKey, entry: DeviceEntry) async throws {
    try await self.pool.transaction { connection in
      let (keyID, sealed) = try await self.seal(entry, of: device, on: connection)
      try await connection.query(
        """
        INSERT INTO device_event (caller, device_id, sequence, fingerprint, payload, data_key_id)
        VALUES (\(device.caller), \(device.deviceID), \(entry.sequence),
          \(Data(entry.fingerprint)), \(sealed), \(keyID))
        """,
        logger: self.logger
      )
    }
  }

  public func complete(_ device: DeviceKey, entry: DeviceEntry, now: Timestamp) async throws {
    guard let outcome = entry.outcome else { preconditionFailure("complete() needs an outcome") }
    try await self.pool.transaction { connection in
      try await connection.query(
        """
        INSERT INTO device_cursor (caller, device_id, processed_through)
        VALUES (\(device.caller), \(device.deviceID), 0) ON CONFLICT DO NOTHING
        """,
        logger: self.logger
      )
      let processed = try await self.processed(device, on: connection, locking: true)
      guard entry.sequence == processed + 1 else {
        throw Corruption("device \(device.deviceID) completes \(entry.sequence) after \(processed)")
      }
      let updated = try await connection.query(
        """
        UPDATE device_event SET status = \(outcome.status.rawValue), code = \(outcome.code),
          message = \(outcome.message), tracking_number = \(outcome.trackingNumber),
          event_sequence = \(outcome.eventSequence), received_at = \(now.microseconds)
        WHERE caller = \(device.caller) AND device_id = \(device.deviceID)
          AND sequence = \(entry.sequence)
        RETURNING sequence
        """,
        logger: self.logger
      )
      var held = false
      for try await _ in updated.decode(Int.self) { held = true }
      if !held {
        let (keyID, sealed) = try await self.seal(entry, of: device, on: connection)
        try await connection.query(
          """
          INSERT INTO device_event (caller, device_id, sequence, fingerprint, payload, data_key_id,
            status, code, message, tracking_number, event_sequence, received_at)
          VALUES (\(device.caller), \(device.deviceID), \(entry.sequence),
            \(Data(entry.fingerprint)), \(sealed), \(keyID), \(outcome.status.rawValue),
            \(outcome.code), \(outcome.message), \(outcome.trackingNumber),
            \(outcome.eventSequence), \(now.microseconds))
          """,
          logger: self.logger
        )
      }
      try await connection.query(
        """
        UPDATE device_cursor SET processed_through = \(entry.sequence)
        WHERE caller = \(device.caller) AND device_id = \(device.deviceID)
        """,
        logger: self.logger
      )
    }
  }

  public func heldSequences(
    _ device: DeviceKey,
    through last: Int,
    limit: Int
  ) async throws -> [Int] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT sequence FROM device_event
        WHERE caller = \(device.caller) AND device_id = \(device.deviceID) AND status IS NULL
          AND sequence <= \(last)
        ORDER BY sequence LIMIT \(Int64(limit))
        """,
        logger: self.logger
      )
      var sequences: [Int] = []
      for try await sequence in rows.decode(Int.self) { sequences.append(sequence) }
      return sequences
    }
  }

  public func erasePayloads(receivedBefore before: Timestamp, limit: Int) async throws -> Int {
    try await self.pool.transaction { connection in
      let rows = try await connection.query(
        """
        WITH old AS (
          SELECT caller, device_id, sequence, data_key_id FROM device_event
          WHERE received_at < \(before.microseconds) AND data_key_id IS NOT NULL
          LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED
        ), cleared AS (
          UPDATE device_event d SET data_key_id = NULL, payload = ''::bytea FROM old
          WHERE d.caller = old.caller AND d.device_id = old.device_id
            AND d.sequence = old.sequence
          RETURNING old.data_key_id
        )
        DELETE FROM data_key WHERE id IN (SELECT data_key_id FROM cleared) RETURNING id
        """,
        logger: self.logger
      )
      var erased = 0
      for try await _ in rows.decode(Int64.self) { erased += 1 }
      return erased
    }
  }
}
