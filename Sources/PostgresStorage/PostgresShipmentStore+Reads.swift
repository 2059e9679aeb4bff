import Foundation
import Persistence
import PostgresNIO
public import Tracking

// MARK: - Idempotency, serials and reads

extension PostgresShipmentStore {
  /// What a key was remembered for, read in the caller's transaction.
  func remembered(
    _ key: IdempotencyKey,
    on connection: PostgresConnection
  ) async throws -> RememberedWrite? {
    let rows = try await connection.query(
      """
      SELECT fingerprint, shipment_id, first_sequence, version FROM idempotency_key
      WHERE caller = \(key.caller) AND request_id = \(key.requestID.rawValue)
      """,
      logger: self.logger
    )
    var record: (Data, Int64, Int, Int)?
    for try await values in rows.decode((Data, Int64, Int, Int).self) { record = values }
    guard let (fingerprint, shipmentID, first, version) = record else { return nil }
    guard Array(fingerprint) == key.fingerprint else { throw TrackingError.requestIDReused() }
    let stored = try await self.rows.loadRegistered(id: shipmentID, on: connection)
    guard let remembered = RememberedWrite(stored, firstSequence: first, version: version) else {
      throw Corruption("an idempotency record points past the history of a shipment")
    }
    return remembered
  }

  func remember(
    _ key: IdempotencyKey,
    shipmentID: Int64,
    firstSequence: Int,
    version: Int,
    at time: Timestamp,
    on connection: PostgresConnection
  ) async throws {
    try await connection.query(
      """
      INSERT INTO idempotency_key
        (caller, request_id, fingerprint, shipment_id, first_sequence, version, created_at)
      VALUES (\(key.caller), \(key.requestID.rawValue), \(Data(key.fingerprint)), \(shipmentID),
        \(firstSequence), \(version), \(time.microseconds))
      """,
      logger: self.logger
    )
  }

  /// The next serial of an indicator: the counter's row lock orders registrations.
  func nextSerial(
    for indicator: ServiceIndicator,
    on connection: PostgresConnection
  ) async throws -> Int {
    let rows = try await connection.query(
      """
      INSERT INTO serial_counter (service_indicator, last_serial) VALUES (\(indicator.rawValue), 0)
      ON CONFLICT (service_indicator)
        DO UPDATE SET last_serial = serial_counter.last_serial + 1
      RETURNING last_serial
      """,
      logger: self.logger
    )
    var next: Int?
    for try await serial in rows.decode(Int.self) { next = serial }
    guard let next, next >= 0 else { throw Corruption("bad serial counter for \(indicator)") }
    guard next <= TrackingNumber.maximumSerial else {
      throw TrackingError(
        code: .exhausted,
        message: "every serial of service indicator \(indicator) has been used"
      )
    }
    return next
  }

  public func remembered(_ key: IdempotencyKey) async throws -> RememberedWrite? {
    try await self.pool.withConnection { connection in
      try await self.remembered(key, on: connection)
    }
  }

  public func forgetIdempotencyKeys(
    recordedBefore before: Timestamp,
    limit: Int
  ) async throws -> Int {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        WITH old AS (
          SELECT caller, request_id FROM idempotency_key WHERE created_at < \(before.microseconds)
          ORDER BY created_at LIMIT \(Int64(limit))
        )
        DELETE FROM idempotency_key k USING old
        WHERE k.caller = old.caller AND k.request_id = old.request_id
        RETURNING 1
        """,
        logger: self.logger
      )
      var count = 0
      for try await _ in rows { count += 1 }
      return count
    }
  }

  public func dueForErasure(
    registeredBefore before: Timestamp,
    limit: Int
  ) async throws -> [TrackingNumber] {
    let final = ShipmentState.allCases.filter(\.isFinal).map(\.rawValue)
    return try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT tracking_number FROM shipment
        WHERE created_at < \(before.microseconds) AND erased_at IS NULL AND state = ANY(\(final))
        ORDER BY created_at LIMIT \(Int64(limit))
        """,
        logger: self.logger
      )
      var numbers: [TrackingNumber] = []
      for try await number in rows.decode(String.self) {
        numbers.append(try TrackingNumber(validating: number))
      }
      return numbers
    }
  }

  public func probeWrite(now: Timestamp) async throws {
    try await self.pool.execute(
      """
      INSERT INTO health_probe (id, probed_at) VALUES (1, \(now.microseconds))
      ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at
      """
    )
  }

  public func shipment(_ number: TrackingNumber) async throws -> Shipment? {
    try await self.shipmentWithCommitment(number)?.shipment
  }

  public func shipmentWithCommitment(_ number: TrackingNumber) async throws -> RegisteredShipment? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        "SELECT id FROM shipment WHERE tracking_number = \(number.rawValue)",
        logger: self.logger
      )
      var id: Int64?
      for try await found in rows.decode(Int64.self) { id = found }
      guard let id else { return nil }
      return try await self.rows.loadRegistered(id: id, on: connection)
    }
  }

  public func indexApplicants(
    _ digests: @escaping @Sendable (Applicant) -> [String]
  ) async throws -> Int {
    try await self.pool.transaction { connection in
      let pending = try await connection.query(
        """
        SELECT shipment.* FROM person_lookup_pending
        JOIN shipment ON shipment.id = person_lookup_pending.shipment_id
        FOR UPDATE OF person_lookup_pending
        """,
        logger: self.logger
      )
      var found: [(Int64, Applicant)] = []
      // Read to the end before the next query: one connection runs one statement at a time.
      for row in try await pending.collect() {
        let columns = Columns(row)
        let key = try await self.rows.key(
          try columns["data_key_id", as: Int64?.self],
          on: connection
        )
        let shipment = try self.rows.decodeShipment(columns, events: [], key: key)
        found.append((try columns["id"], shipment.applicant))
      }
      for (id, applicant) in found {
        for digest in digests(applicant) {
          try await connection.query(
            """
            INSERT INTO person_lookup (digest, shipment_id) VALUES (\(digest), \(id))
            ON CONFLICT DO NOTHING
            """,
            logger: self.logger
          )
        }
        try await connection.query(
          "DELETE FROM person_lookup_pending WHERE shipment_id = \(id)",
          logger: self.logger
        )
      }
      return found.count
    }
  }

  public func scan(documentCode: String) async throws -> (TrackingNumber, Scan)? {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT s.tracking_number, d.document_id, d.sha256, d.size, d.content_type, d.reused_from
        FROM scan_document d JOIN shipment s ON s.id = d.shipment_id
        WHERE d.document_code = \(documentCode)
        """,
        logger: self.logger
      )
      for try await (number, documentID, sha256, size, contentType, reusedFrom) in rows.decode(
        (String, String, String, Int64, String, String?).self
      ) {
        let scan = Scan(
          documentID: documentID,
          documentCode: documentCode,
          sha256: sha256,
          size: size,
          contentType: try SealedRecords.decode(contentType),
          reusedFrom: reusedFrom
        )
        return (try TrackingNumber(validating: number), scan)
      }
      return nil
    }
  }

  public func shipments(matching query: ShipmentQuery) async throws -> ShipmentPage {
    var sql = "SELECT * FROM shipment WHERE true"
    var bindings = PostgresBindings()
    /// Appends a condition whose `?` placeholders take `values`, in order.
    func add(_ condition: String, _ values: [String]) throws {
      var text = condition
      for value in values {
        try bindings.append(value)
        text = text.replacingOccurrences(
          of: "?",
          with: "$\(bindings.count)",
          range: text.range(of: "?")
        )
      }
      sql += " AND " + text
    }
    func add(_ condition: String, _ value: Int64) throws {
      try bindings.append(value)
      sql += " AND " + condition.replacingOccurrences(of: "?", with: "$\(bindings.count)")
    }
    if let state = query.filter.state { try add("state = ?", [state.rawValue]) }
    if let office = query.filter.postOffice { try add("origin_post_office = ?", [office.rawValue]) }
    if let after = query.filter.createdAtOrAfter { try add("created_at >= ?", after.microseconds) }
    if let before = query.filter.createdBefore { try add("created_at < ?", before.microseconds) }
    if let person = query.filter.person {
      try add("id IN (SELECT shipment_id FROM person_lookup WHERE digest = ?)", [person])
    }
    if let cursor = query.after {
      try add("created_at <= ?", cursor.createdAt.microseconds)
      try bindings.append(cursor.createdAt.microseconds)
      try bindings.append(cursor.trackingNumber.rawValue)
      sql +=
        " AND (created_at, tracking_number) < ($\(bindings.count - 1), $\(bindings.count))"
    }
    try bindings.append(Int64(query.pageSize + 1))
    sql += " ORDER BY created_at DESC, tracking_number DESC LIMIT $\(bindings.count)"
    let statement = PostgresQuery(unsafeSQL: sql, binds: bindings)
    return try await self.pool.withConnection { connection in
      let rows = try await connection.query(statement, logger: self.logger)
      var shipments: [Shipment] = []
      var more = false
      for row in try await rows.collect() {
        guard shipments.count < query.pageSize else {
          more = true
          continue
        }
        let columns = Columns(row)
        let key = try await self.rows.key(
          try columns["data_key_id", as: Int64?.self],
          on: connection
        )
        shipments.append(try self.rows.decodeShipment(columns, events: [], key: key))
      }
      let next =
        more
        ? shipments.last.map {
          ShipmentQuery.Cursor(createdAt: $0.createdAt, trackingNumber: $0.trackingNumber)
        } : nil
      return ShipmentPage(shipments: shipments, next: next)
    }
  }
}
