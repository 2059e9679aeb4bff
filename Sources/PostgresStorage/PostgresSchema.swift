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

  static let migrations: [Migration] = [
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
    )
  ]

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
