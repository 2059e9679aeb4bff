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
/// In progress (issue 18): writes that carry hops, alerts, notifications, a consent change or
/// an erasure are refused with `.storageFailure` until the SLA and notification stores exist
/// on PostgreSQL; nothing is written for them.
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
        guard registration.consent == nil else {
          throw Self.notYet("a registration with a notification consent")
        }
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
    if write.hops != nil || !write.alerts.isEmpty { throw Self.notYet("service-level hops") }
    if !write.notifications.isEmpty || write.consent != nil {
      throw Self.notYet("a notification")
    }
    if write.erasesPersonalData { throw Self.notYet("an erasure") }
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
    return .applied(AppendedEvents(shipment: shipment, events: events))
  }

  /// A write that needs what is not on PostgreSQL yet.
  static func notYet(_ what: String) -> TrackingError {
    TrackingError(
      code: .storageFailure,
      message: "the store is unavailable",
      underlying: "\(what) cannot be stored on PostgreSQL yet"
    )
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
