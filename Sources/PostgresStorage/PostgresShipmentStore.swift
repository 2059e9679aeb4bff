import Foundation
import Logging
public import Persistence
import PostgresNIO
public import Tracking

/// The ``ShipmentStore`` on PostgreSQL, shared by replicas: each write is one transaction that
/// locks the shipment's row (`FOR UPDATE`: writers of one shipment take turns and a stale
/// decision is a conflict), writes the events, the idempotency record and — last, so the
/// sequencer's lock is held briefly — the custody leaves, and announces what it changed
/// (``PostgresChangeListener``). Idempotency and uniqueness are the database's constraints:
/// two replicas replaying one key at once get one write and one replay.
///
/// Hops, alerts, queued notifications and consent changes are written in the same
/// transaction (``PostgresSlaStore``, ``PostgresNotificationStore``).
public struct PostgresShipmentStore: ShipmentStore {
  let pool: PostgresPool
  let rows: PostgresShipmentRows
  let feed: ChangeFeed

  /// A store on a migrated database, sealing personal data under data keys wrapped by `keys`.
  /// - Parameter feed: Where this replica's commits are published as soon as they commit
  ///   (other replicas learn of them through their ``PostgresChangeListener``).
  public init(pool: PostgresPool, keys: any KeyEncryptionKeys, feed: ChangeFeed) {
    self.pool = pool
    self.rows = PostgresShipmentRows(records: SealedRecords(keys: keys), logger: pool.logger)
    self.feed = feed
  }

  var logger: Logger { self.pool.logger }

  public func register(
    indicator: ServiceIndicator,
    idempotencyKey key: IdempotencyKey,
    build: @escaping @Sendable (TrackingNumber) throws -> ShipmentRegistration
  ) async throws -> StoreOutcome<RegisteredShipment> {
    let outcome: StoreOutcome<RegisteredShipment> = try await self.retryingKeyRace {
      try await self.pool.transaction { connection -> StoreOutcome<RegisteredShipment> in
        if let replay = try await self.remembered(key, on: connection) {
          guard case .registration(let earlier) = replay else {
            throw TrackingError.requestIDReused()
          }
          return .replayed(earlier)
        }
        let serial = try await self.nextSerial(for: indicator, on: connection)
        let registration = try build(TrackingNumber(serviceIndicator: indicator, serial: serial))
        let shipment = registration.shipment
        let (id, dataKey) = try await self.rows.insert(
          shipment,
          commitment: registration.commitment,
          custodySalt: registration.custodySalt,
          on: connection
        )
        if registration.lookupDigests.isEmpty {
          try await connection.query(
            "INSERT INTO person_lookup_pending (shipment_id) VALUES (\(id))",
            logger: self.logger
          )
        }
        try await self.insertLookupDigests(
          registration.lookupDigests,
          shipmentID: id,
          on: connection
        )
        if let consent = registration.consent {
          try await PostgresNotificationStore.record(
            consent,
            shipmentID: id,
            on: connection,
            logger: self.logger
          )
        }
        for event in shipment.events {
          try await self.rows.insert(
            event,
            shipmentID: id,
            trackingNumber: shipment.trackingNumber.rawValue,
            key: dataKey,
            on: connection
          )
        }
        try await self.remember(
          registration.idempotencyKey,
          shipmentID: id,
          firstSequence: 1,
          version: shipment.version,
          at: shipment.createdAt,
          on: connection
        )
        // Queued now, sent at commit: one statement fewer under the sequencer's lock.
        try await PostgresChangeListener.notify([.custodyLog], on: connection, logger: self.logger)
        let indexes = try await PostgresCustodyStore.append(
          registration.custodyLeaves,
          of: shipment.trackingNumber,
          on: connection,
          logger: self.logger
        )
        var stored = shipment
        for position in stored.events.indices {
          stored.events[position].leafIndex = indexes[position]
        }
        return .applied(
          RegisteredShipment(
            shipment: stored,
            commitment: registration.commitment,
            custodySalt: registration.custodySalt
          )
        )
      }
    }
    if !outcome.isReplay { self.feed.publish([.custodyLog]) }
    return outcome
  }

  public func commit(_ write: ShipmentWrite) async throws -> StoreOutcome<AppendedEvents> {
    let outcome: StoreOutcome<AppendedEvents> = try await self.retryingKeyRace {
      try await self.pool.transaction { connection in
        try await self.apply(write, on: connection)
      }
    }
    if !outcome.isReplay { self.feed.publish(Self.topics(of: write)) }
    return outcome
  }

  /// What a write changes, for the feed.
  static func topics(of write: ShipmentWrite) -> Set<StoreTopic> {
    var topics: Set<StoreTopic> = []
    if !write.custodyLeaves.isEmpty { topics.insert(.custodyLog) }
    if !write.outbox.isEmpty { topics.insert(.outbox) }
    if write.hops != nil { topics.insert(.hops) }
    if !write.alerts.isEmpty { topics.insert(.alerts) }
    if !write.notifications.isEmpty || write.consent != nil { topics.insert(.notifications) }
    return topics
  }

  private func apply(
    _ write: ShipmentWrite,
    on connection: PostgresConnection
  ) async throws -> StoreOutcome<AppendedEvents> {
    if let key = write.idempotencyKey, let replay = try await self.remembered(key, on: connection) {
      guard case .events(let earlier) = replay,
        earlier.shipment.trackingNumber == write.trackingNumber
      else { throw TrackingError.requestIDReused() }
      return .replayed(earlier)
    }
    let found = try await connection.query(
      """
      SELECT id, version, data_key_id FROM shipment
      WHERE tracking_number = \(write.trackingNumber.rawValue) FOR UPDATE
      """,
      logger: self.logger
    )
    var row: (Int64, Int, Int64?)?
    for try await values in found.decode((Int64, Int, Int64?).self) { row = values }
    guard let (id, version, keyID) = row else { throw TrackingError.shipmentNotFound() }
    guard version == write.expectedVersion else { throw TrackingError.conflict() }
    try await self.claim(write.dossierCodes, shipmentID: id, on: connection)
    var events = write.events
    let needsKey =
      events.contains { $0.note != nil || $0.details != nil }
      || write.events.contains(where: \.correctsApplicant)
    let dataKey = needsKey ? try await self.rows.key(keyID, on: connection) : nil
    for event in events {
      try await self.rows.insert(
        event,
        shipmentID: id,
        trackingNumber: write.trackingNumber.rawValue,
        key: dataKey,
        on: connection
      )
    }
    if let dataKey, write.events.contains(where: \.correctsApplicant) {
      let sealed = try self.rows.records.seal(write.shipment, with: dataKey)
      try await connection.query(
        """
        UPDATE shipment SET sealed = \(sealed),
          applicant_province = \(write.shipment.applicant.address.province.rawValue),
          applicant_commune = \(write.shipment.applicant.address.commune.rawValue)
        WHERE id = \(id)
        """,
        logger: self.logger
      )
    }
    if let digests = write.lookupDigests {
      try await connection.query(
        "DELETE FROM person_lookup WHERE shipment_id = \(id)",
        logger: self.logger
      )
      try await connection.query(
        "DELETE FROM person_lookup_pending WHERE shipment_id = \(id)",
        logger: self.logger
      )
      try await self.insertLookupDigests(digests, shipmentID: id, on: connection)
    }
    if let last = events.last {
      try await connection.query(
        """
        UPDATE shipment SET state = \(last.toState.rawValue), version = \(last.sequence),
          updated_at = \(last.recordedAt.microseconds)
        WHERE id = \(id)
        """,
        logger: self.logger
      )
    }
    if let commitment = write.newCommitment {
      try await connection.query(
        """
        UPDATE shipment SET code_nonce = \(Data(commitment.nonce)),
          code_salt = \(Data(commitment.salt)), code_hash = \(Data(commitment.hash))
        WHERE id = \(id)
        """,
        logger: self.logger
      )
    }
    try await PostgresHandoffStore.apply(
      write.outbox,
      shipmentID: id,
      at: write.committedAt,
      on: connection,
      logger: self.logger
    )
    try await PostgresNotificationStore.queue(
      write.notifications,
      shipmentID: id,
      at: write.committedAt,
      on: connection,
      logger: self.logger
    )
    if let consent = write.consent {
      try await PostgresNotificationStore.record(
        consent,
        shipmentID: id,
        on: connection,
        logger: self.logger
      )
    }
    if let hops = write.hops {
      try await PostgresSlaStore.replaceHops(
        hops,
        shipmentID: id,
        on: connection,
        logger: self.logger
      )
    }
    try await PostgresSlaStore.raise(
      write.alerts,
      shipmentID: id,
      at: write.committedAt,
      on: connection,
      logger: self.logger
    )
    let erasedScans =
      write.erasesPersonalData
      ? try await self.erasePersonalData(
        shipmentID: id,
        trackingNumber: write.trackingNumber.rawValue,
        at: write.committedAt,
        on: connection
      ) : []
    if let key = write.idempotencyKey, let first = events.first, let last = events.last {
      try await self.remember(
        key,
        shipmentID: id,
        firstSequence: first.sequence,
        version: last.sequence,
        at: write.committedAt,
        on: connection
      )
    }
    try await PostgresChangeListener.notify(
      Self.topics(of: write),
      on: connection,
      logger: self.logger
    )
    let indexes = try await PostgresCustodyStore.append(
      write.custodyLeaves,
      of: write.trackingNumber,
      on: connection,
      logger: self.logger
    )
    for position in events.indices {
      events[position].leafIndex = indexes[position]
    }
    var shipment = write.shipment
    shipment.events.replaceSubrange((shipment.events.count - events.count)..., with: events)
    if write.erasesPersonalData {
      shipment.applicant = .erased
      shipment.personalDataErasedAt = write.committedAt
      for position in shipment.events.indices {
        shipment.events[position].note = nil
        shipment.events[position].details = nil
      }
    }
    return .applied(AppendedEvents(shipment: shipment, events: events, erasedScans: erasedScans))
  }

  /// Crypto-shredding inside the erasing write, as on SQLite: the shipment's data key is
  /// destroyed (sealed fields, notes, details and the rating's comment no longer open), its
  /// blind-index digests go, and so do the keys of its scans no shipment not erased shares.
  /// States, times, places, handovers and custody leaves stay.
  /// - Returns: The scans (SHA-256) whose keys were destroyed.
  private func erasePersonalData(
    shipmentID id: Int64,
    trackingNumber: String,
    at time: Timestamp,
    on connection: PostgresConnection
  ) async throws -> [String] {
    try await connection.query(
      """
      WITH old AS (SELECT data_key_id FROM shipment WHERE id = \(id)),
      erased AS (
        UPDATE shipment SET erased_at = \(time.microseconds), sealed = NULL, data_key_id = NULL
        WHERE id = \(id)
      )
      DELETE FROM data_key WHERE id = (SELECT data_key_id FROM old)
      """,
      logger: self.logger
    )
    for statement: PostgresQuery in [
      "DELETE FROM person_lookup WHERE shipment_id = \(id)",
      "DELETE FROM person_lookup_pending WHERE shipment_id = \(id)",
      "UPDATE service_rating SET sealed = NULL WHERE tracking_number = \(trackingNumber)",
    ] {
      try await connection.query(statement, logger: self.logger)
    }
    let rows = try await connection.query(
      """
      WITH gone AS (
        SELECT DISTINCT d.sha256 FROM scan_document d
        WHERE d.shipment_id = \(id) AND NOT EXISTS (
          SELECT 1 FROM scan_document o JOIN shipment s ON s.id = o.shipment_id
          WHERE o.sha256 = d.sha256 AND o.shipment_id <> d.shipment_id AND s.erased_at IS NULL)
      ), keys AS (
        DELETE FROM data_key WHERE id IN
          (SELECT b.data_key_id FROM blob b JOIN gone ON gone.sha256 = b.sha256)
      )
      SELECT sha256 FROM gone
      """,
      logger: self.logger
    )
    var scans: [String] = []
    for try await sha256 in rows.decode(String.self) { scans.append(sha256) }
    return scans.sorted()
  }

  /// Gives the shipment its agency dossier codes, refusing one another shipment has.
  private func claim(
    _ codes: [DossierCode],
    shipmentID: Int64,
    on connection: PostgresConnection
  ) async throws {
    for code in codes {
      let rows = try await connection.query(
        """
        INSERT INTO dossier_code (code, shipment_id) VALUES (\(code.rawValue), \(shipmentID))
        ON CONFLICT (code) DO UPDATE SET code = excluded.code RETURNING shipment_id
        """,
        logger: self.logger
      )
      for try await owner in rows.decode(Int64.self) where owner != shipmentID {
        throw TrackingError(
          code: .duplicate,
          message: "accepted.dossier_code: the agency already gave this code to another shipment"
        )
      }
    }
  }

  private func insertLookupDigests(
    _ digests: [String],
    shipmentID: Int64,
    on connection: PostgresConnection
  ) async throws {
    for digest in digests {
      try await connection.query(
        """
        INSERT INTO person_lookup (digest, shipment_id) VALUES (\(digest), \(shipmentID))
        ON CONFLICT DO NOTHING
        """,
        logger: self.logger
      )
    }
  }

  /// Runs a write again when another replica recorded the same idempotency key between this
  /// one's check and its insert: the second run finds the record and replays it.
  private func retryingKeyRace<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch let error as PSQLError
      where error.sqlState == "23505"
      && error.serverInfo?[.constraintName] == "idempotency_key_pkey"
    {
      return try await body()
    } catch let error as PSQLError {
      throw TrackingError(
        code: .storageFailure,
        message: "the store is unavailable",
        underlying: "\(error.serverInfo?[.message] ?? "\(error.code)")"
      )
    }
  }
}
