import Logging
import PostgresNIO

/// The PostgreSQL schema, as numbered migrations applied in order: the counterpart of
/// `SQLiteSchema`. Each migration runs in the transaction that records it, under a
/// transaction-scoped advisory lock, so replicas starting together migrate once and wait for
/// each other; a database migrated by a newer gateway is refused, never served.
public enum PostgresSchema {
  /// One step of the schema.
  struct Migration: Sendable {
    var version: Int
    var purpose: String
    var statements: [String]
  }

  /// The advisory lock key migrations hold ("PGmigrat" read as digits, any fixed number works).
  static let lockKey: Int64 = 7_400_180_001

  /// The highest version this build knows.
  public static var latest: Int { Self.migrations.last?.version ?? 0 }

  static let migrations: [Migration] =
    [
      Migration(
        version: 1,
        purpose:
          "the custody log: one tree-size row (the sequencer), append-only leaves, nodes and checkpoints",
        statements: [
          """
          CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
          END
          $$
          """,
          // The sequencer: appends lock this row (UPDATE … RETURNING) until they commit, so
          // leaf indexes are handed out one transaction at a time, contiguous, with no gap.
          """
          CREATE TABLE custody_tree (
            id smallint PRIMARY KEY CHECK (id = 1),
            size bigint NOT NULL CHECK (size >= 0)
          )
          """,
          "INSERT INTO custody_tree (id, size) VALUES (1, 0)",
          """
          CREATE TABLE custody_leaf (
            leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
            data bytea NOT NULL,
            tracking_number text NOT NULL,
            event_sequence integer NOT NULL CHECK (event_sequence > 0),
            UNIQUE (tracking_number, event_sequence)
          )
          """,
          """
          CREATE TABLE custody_node (
            level smallint NOT NULL CHECK (level >= 0),
            node_index bigint NOT NULL CHECK (node_index >= 0),
            hash bytea NOT NULL CHECK (length(hash) = 32),
            PRIMARY KEY (level, node_index)
          )
          """,
          """
          CREATE TABLE custody_checkpoint (
            tree_size bigint PRIMARY KEY CHECK (tree_size > 0),
            root bytea NOT NULL CHECK (length(root) = 32),
            note text NOT NULL,
            signed_at bigint NOT NULL
          )
          """,
        ]
          + ["custody_tree", "custody_leaf", "custody_node", "custody_checkpoint"].flatMap {
            table -> [String] in
            let rows =
              table == "custody_tree"
              ? "BEFORE DELETE" : "BEFORE UPDATE OR DELETE"
            return [
              "CREATE TRIGGER \(table)_append_only \(rows) ON \(table) FOR EACH ROW EXECUTE FUNCTION refuse_change()",
              "CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table) FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()",
            ]
          }
      ),
      Migration(
        version: 2,
        purpose: "handover signing keys of staff devices and agency systems",
        statements: [
          """
          CREATE TABLE signing_key (
            key_id text PRIMARY KEY,
            owner text NOT NULL,
            public_key bytea NOT NULL CHECK (length(public_key) = 32),
            registered_at bigint NOT NULL
          )
          """,
          "CREATE INDEX signing_key_by_owner ON signing_key (owner)",
        ]
      ),
      Migration(
        version: 3,
        purpose:
          "shipments and their append-only events, sealed personal data under data keys, idempotency keys, serials, scans, dossier codes, the blind index",
        statements: [
          """
          CREATE TABLE serial_counter (
            service_indicator text PRIMARY KEY,
            last_serial integer NOT NULL CHECK (last_serial >= 0)
          )
          """,
          """
          CREATE TABLE data_key (
            id bigserial PRIMARY KEY,
            kek_id text NOT NULL,
            wrapped bytea NOT NULL,
            created_at bigint NOT NULL
          )
          """,
          "CREATE INDEX data_key_by_kek ON data_key (kek_id)",
          """
          CREATE TABLE shipment (
            id bigserial PRIMARY KEY,
            tracking_number text NOT NULL UNIQUE,
            service_type text NOT NULL,
            state text NOT NULL,
            procedure_code text NOT NULL,
            agency_code text NOT NULL,
            origin_post_office text NOT NULL,
            applicant_province text NOT NULL,
            applicant_commune text NOT NULL,
            pickup_kind text NOT NULL CHECK (pickup_kind IN ('counter', 'home')),
            pickup_province text,
            pickup_commune text,
            pickup_window_start bigint,
            pickup_window_end bigint,
            code_nonce bytea NOT NULL,
            code_salt bytea NOT NULL,
            code_hash bytea NOT NULL,
            custody_salt bytea NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            version integer NOT NULL CHECK (version > 0),
            data_key_id bigint,
            sealed bytea,
            erased_at bigint,
            notify_channel text NOT NULL DEFAULT 'NONE'
          )
          """,
          "CREATE INDEX shipment_by_created ON shipment (created_at DESC, tracking_number DESC)",
          "CREATE INDEX shipment_by_state ON shipment (state, created_at DESC, tracking_number DESC)",
          """
          CREATE INDEX shipment_by_office
            ON shipment (origin_post_office, created_at DESC, tracking_number DESC)
          """,
          "CREATE INDEX shipment_not_erased ON shipment (created_at) WHERE erased_at IS NULL",
          """
          CREATE TABLE shipment_event (
            shipment_id bigint NOT NULL REFERENCES shipment (id),
            sequence integer NOT NULL CHECK (sequence > 0),
            kind text NOT NULL,
            from_state text,
            to_state text NOT NULL,
            occurred_at bigint NOT NULL,
            recorded_at bigint NOT NULL,
            actor text NOT NULL,
            location text NOT NULL,
            sealed bytea,
            handover text,
            PRIMARY KEY (shipment_id, sequence)
          )
          """,
          """
          CREATE TRIGGER shipment_event_append_only BEFORE UPDATE OR DELETE ON shipment_event
            FOR EACH ROW EXECUTE FUNCTION refuse_change()
          """,
          """
          CREATE TRIGGER shipment_event_no_truncate BEFORE TRUNCATE ON shipment_event
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
          """,
          """
          CREATE TABLE idempotency_key (
            caller text NOT NULL,
            request_id text NOT NULL,
            fingerprint bytea NOT NULL,
            shipment_id bigint NOT NULL REFERENCES shipment (id),
            first_sequence integer NOT NULL,
            version integer NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (caller, request_id)
          )
          """,
          "CREATE INDEX idempotency_key_by_age ON idempotency_key (created_at)",
          """
          CREATE TABLE scan_document (
            document_code text PRIMARY KEY,
            shipment_id bigint NOT NULL,
            sequence integer NOT NULL,
            document_id text NOT NULL,
            sha256 text NOT NULL,
            size bigint NOT NULL,
            content_type text NOT NULL,
            reused_from text,
            FOREIGN KEY (shipment_id, sequence) REFERENCES shipment_event (shipment_id, sequence)
          )
          """,
          "CREATE INDEX scan_document_by_sha256 ON scan_document (sha256)",
          """
          CREATE TABLE dossier_code (
            code text PRIMARY KEY,
            shipment_id bigint NOT NULL REFERENCES shipment (id)
          )
          """,
          """
          CREATE TABLE person_lookup (
            digest text NOT NULL,
            shipment_id bigint NOT NULL REFERENCES shipment (id),
            PRIMARY KEY (digest, shipment_id)
          )
          """,
          "CREATE INDEX person_lookup_by_shipment ON person_lookup (shipment_id)",
          "CREATE TABLE person_lookup_pending (shipment_id bigint PRIMARY KEY REFERENCES shipment (id))",
          """
          CREATE TABLE health_probe (
            id smallint PRIMARY KEY CHECK (id = 1),
            probed_at bigint NOT NULL
          )
          """,
        ]
      ),
      Migration(
        version: 4,
        purpose:
          "the handoff outbox, with claims so replicas' dispatchers share it without pushing one handoff twice",
        statements: [
          """
          CREATE TABLE handoff (
            cursor bigserial PRIMARY KEY,
            handoff_id text NOT NULL UNIQUE,
            shipment_id bigint NOT NULL REFERENCES shipment (id),
            agency_code text NOT NULL,
            mode text NOT NULL CHECK (mode IN ('PUSH', 'PULL')),
            status text NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'DEAD')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at bigint NOT NULL,
            last_error text,
            queued_at bigint NOT NULL,
            last_attempt_at bigint,
            closed_at bigint,
            claimed_by text,
            claimed_until bigint
          )
          """,
          "CREATE INDEX handoff_due ON handoff (agency_code, status, mode, next_attempt_at)",
          "CREATE INDEX handoff_by_agency ON handoff (agency_code, status, cursor)",
        ]
      ),
      Migration(
        version: 5,
        purpose: "the append-only audit of reads of unmasked personal data",
        statements: [
          """
          CREATE TABLE access_audit (
            sequence bigserial PRIMARY KEY,
            at bigint NOT NULL,
            actor text NOT NULL,
            tracking_number text NOT NULL,
            read text NOT NULL,
            purpose text NOT NULL,
            document_code text
          )
          """,
          "CREATE INDEX access_audit_by_shipment ON access_audit (tracking_number, sequence)",
          "CREATE INDEX access_audit_by_actor ON access_audit (actor, sequence)",
          """
          CREATE TRIGGER access_audit_append_only BEFORE UPDATE OR DELETE ON access_audit
            FOR EACH ROW EXECUTE FUNCTION refuse_change()
          """,
          """
          CREATE TRIGGER access_audit_no_truncate BEFORE TRUNCATE ON access_audit
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
          """,
        ]
      ),
      Migration(
        version: 6,
        purpose: "counter queue tickets and their waits",
        statements: [
          """
          CREATE TABLE queue_ticket (
            post_office text NOT NULL,
            number text NOT NULL,
            issued_at bigint NOT NULL,
            called_at bigint NOT NULL CHECK (called_at >= issued_at),
            wait_seconds bigint NOT NULL,
            issued_hour integer NOT NULL CHECK (issued_hour BETWEEN 0 AND 23),
            tracking_number text,
            recorded_by text NOT NULL,
            request_id text NOT NULL,
            fingerprint bytea NOT NULL,
            PRIMARY KEY (post_office, number, issued_at),
            UNIQUE (recorded_by, request_id)
          )
          """,
          "CREATE INDEX queue_ticket_by_issue ON queue_ticket (issued_at)",
        ]
      ),
    ] + Self.laterMigrations

  /// Brings the database to ``latest``.
  /// - Returns: The version before and after.
  /// - Throws: ``PostgresStorageError/newerSchema(found:known:)`` when a newer gateway migrated
  ///   it.
  @discardableResult
  public static func migrate(_ database: PostgresPool) async throws -> (from: Int, to: Int) {
    try await Self.migrate(database, through: Self.migrations)
  }

  static func migrate(
    _ database: PostgresPool,
    through migrations: [Migration]
  ) async throws -> (from: Int, to: Int) {
    let known = migrations.last?.version ?? 0
    return try await database.transaction { connection in
      try await connection.query(
        "SELECT pg_advisory_xact_lock(\(Self.lockKey))",
        logger: database.logger
      )
      try await connection.query(
        """
        CREATE TABLE IF NOT EXISTS schema_migration (
          version integer PRIMARY KEY,
          purpose text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        logger: database.logger
      )
      let found = try await Self.version(on: connection, logger: database.logger)
      guard found <= known else {
        throw PostgresStorageError.newerSchema(found: found, known: known)
      }
      for migration in migrations where migration.version > found {
        for statement in migration.statements {
          try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
        }
        try await connection.query(
          "INSERT INTO schema_migration (version, purpose) VALUES (\(migration.version), \(migration.purpose))",
          logger: database.logger
        )
      }
      return (found, max(found, known))
    }
  }

  /// The version the database is at (0 for an empty one).
  public static func version(of database: PostgresPool) async throws -> Int {
    try await database.withConnection { connection in
      let exists = try await connection.query(
        "SELECT to_regclass('schema_migration') IS NOT NULL",
        logger: database.logger
      )
      for try await present in exists.decode(Bool.self) where !present { return 0 }
      return try await Self.version(on: connection, logger: database.logger)
    }
  }

  /// Refuses a database this build cannot serve: not migrated up to ``latest``, or migrated by
  /// a newer build.
  public static func check(_ database: PostgresPool) async throws {
    let found = try await Self.version(of: database)
    if found > Self.latest {
      throw PostgresStorageError.newerSchema(found: found, known: Self.latest)
    }
  }

  private static func version(on connection: PostgresConnection, logger: Logger) async throws -> Int
  {
    let rows = try await connection.query(
      "SELECT COALESCE(MAX(version), 0)::integer FROM schema_migration",
      logger: logger
    )
    for try await version in rows.decode(Int.self) { return version }
    return 0
  }
}
