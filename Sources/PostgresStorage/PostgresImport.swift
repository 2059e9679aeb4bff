import Foundation
import Logging
public import Persistence
import PostgresNIO
public import Tracking

/// Moves a province from SQLite to PostgreSQL (`postal-gateway db copy`): every table of the
/// SQLite database into an empty, migrated PostgreSQL database in one transaction — rows as
/// they are, sealed bytes and wrapped data keys included (both backends seal the same way), the
/// custody log's leaves, nodes and checkpoints with their indexes — then every stored scan,
/// opened with its SQLite key and sealed again in chunks (``PostgresBlobStore``).
public enum PostgresImport {
  /// What was copied.
  public struct Report: Sendable {
    /// Rows per table, in copy order.
    public var rows: [(table: String, count: Int)] = []
    /// Scans copied, and those skipped because their key was destroyed (erased).
    public var scans = 0
    public var erasedScans = 0
  }

  /// The tables, parents first. Each is copied with the columns both schemas have, in its
  /// primary key's order.
  static let tables = [
    "data_key", "serial_counter", "shipment", "shipment_event", "idempotency_key",
    "scan_document", "dossier_code", "person_lookup", "person_lookup_pending", "custody_leaf",
    "custody_node", "custody_checkpoint", "signing_key", "handoff", "access_audit",
    "queue_ticket", "sla_hop", "sla_alert", "notification_consent", "notification",
    "service_rating", "device_cursor", "device_event",
  ]

  /// Copies everything; refuses a target that holds any shipment or custody leaf.
  /// - Parameters:
  ///   - export: The SQLite database (its stores opened, so plaintext left by old versions is
  ///     sealed first).
  ///   - scans: The SQLite stores' blob store (reads and opens the scans).
  ///   - pool: The target, migrated.
  ///   - blobs: The target's blob store.
  public static func copy(
    from export: SQLiteExport,
    scans: any BlobStore,
    to pool: PostgresPool,
    blobs: PostgresBlobStore,
    progress: @Sendable (String) -> Void = { _ in }
  ) async throws -> Report {
    let logger = pool.logger
    var report = Report()
    try await pool.transaction { connection in
      let rows = try await connection.query(
        "SELECT (SELECT count(*) FROM shipment) + (SELECT size FROM custody_tree)",
        logger: logger
      )
      for try await held in rows.decode(Int64.self) where held > 0 {
        throw PostgresStorageError.configuration(
          "the target database already holds shipments or custody entries; db copy fills an empty one"
        )
      }
      for table in Self.tables {
        let count = try await Self.copy(table, from: export, on: connection, logger: logger)
        report.rows.append((table, count))
        progress("\(table): \(count) rows")
      }
      try await connection.query(
        "UPDATE custody_tree SET size = (SELECT count(*) FROM custody_leaf)",
        logger: logger
      )
      for (table, column) in [
        ("data_key", "id"), ("shipment", "id"), ("handoff", "cursor"), ("sla_alert", "cursor"),
        ("access_audit", "sequence"), ("notification", "seq"), ("notification_consent", "id"),
      ] {
        try await connection.query(
          PostgresQuery(
            unsafeSQL: """
              SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'),
                COALESCE(MAX(\(column)), 1), MAX(\(column)) IS NOT NULL) FROM \(table)
              """
          ),
          logger: logger
        )
      }
    }
    for digest in try export.scanDigests() {
      if try await Self.copyScan(digest, from: scans, to: blobs) {
        report.scans += 1
      } else {
        report.erasedScans += 1
      }
    }
    progress("scans: \(report.scans) copied, \(report.erasedScans) erased")
    return report
  }

  /// One table, page by page; returns its row count.
  private static func copy(
    _ table: String,
    from export: SQLiteExport,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> Int {
    let target = try await Self.columns(of: table, on: connection, logger: logger)
    let key = try await Self.primaryKey(of: table, on: connection, logger: logger)
    let source = Set(try export.columns(of: table))
    var select: String
    var columns: [(name: String, type: String)]
    switch table {
    case "custody_leaf":
      // SQLite names the shipment by its row; PostgreSQL by its number.
      columns = target
      select = """
        SELECT l.leaf_index, l.data, s.tracking_number, l.event_sequence
        FROM custody_leaf l JOIN shipment s ON s.id = l.shipment_id ORDER BY l.leaf_index
        """
    default:
      columns = target.filter { source.contains($0.name) }
      select =
        "SELECT \(columns.map { "\"\($0.name)\"" }.joined(separator: ", ")) FROM \(table)"
      if table == "data_key" {
        // The SQLite scans' own keys stay behind: their files are sealed again on the target.
        select += " WHERE id NOT IN (SELECT data_key_id FROM scan_key)"
      }
      select += " ORDER BY \(key.joined(separator: ", "))"
    }
    var copied = 0
    try await export.rows(select, pageSize: max(1, 20_000 / max(1, columns.count))) { page in
      var bindings = PostgresBindings(capacity: page.count * columns.count)
      var tuples: [String] = []
      for row in page {
        var placeholders: [String] = []
        for (value, column) in zip(row, columns) {
          try Self.bind(value, as: column.type, into: &bindings, table: table, column: column.name)
          placeholders.append("$\(bindings.count)")
        }
        tuples.append("(\(placeholders.joined(separator: ", ")))")
      }
      try await connection.query(
        PostgresQuery(
          unsafeSQL: """
            INSERT INTO \(table) (\(columns.map { "\"\($0.name)\"" }.joined(separator: ", ")))
            VALUES \(tuples.joined(separator: ", "))
            """,
          binds: bindings
        ),
        logger: logger
      )
      copied += page.count
    }
    return copied
  }

  private static func bind(
    _ value: ExportedValue,
    as type: String,
    into bindings: inout PostgresBindings,
    table: String,
    column: String
  ) throws {
    switch (value, type) {
    case (.null, _): bindings.appendNull()
    case (.integer(let number), "boolean"): bindings.append(number != 0)
    case (.integer(let number), "bigint"), (.integer(let number), "integer"),
      (.integer(let number), "smallint"):
      bindings.append(number)
    case (.text(let text), "text"): bindings.append(text)
    case (.blob(let data), "bytea"): try bindings.append(data)
    case (.text(let text), "bytea"): try bindings.append(Data(text.utf8))
    case (.blob(let data), "text"): bindings.append(String(decoding: data, as: UTF8.self))
    case (.integer(let number), "text"): bindings.append(String(number))
    default:
      throw PostgresStorageError.configuration(
        "\(table).\(column): a stored \(value) does not fit PostgreSQL's \(type)"
      )
    }
  }

  private static func columns(
    of table: String,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [(name: String, type: String)] {
    let rows = try await connection.query(
      """
      SELECT column_name::text, data_type::text FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
      """,
      logger: logger
    )
    var columns: [(name: String, type: String)] = []
    for try await (name, type) in rows.decode((String, String).self) {
      columns.append((name, type))
    }
    return columns
  }

  private static func primaryKey(
    of table: String,
    on connection: PostgresConnection,
    logger: Logger
  ) async throws -> [String] {
    let rows = try await connection.query(
      """
      SELECT a.attname::text FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = \(table)::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey::smallint[], a.attnum)
      """,
      logger: logger
    )
    var key: [String] = []
    for try await name in rows.decode(String.self) { key.append(name) }
    return key
  }

  /// Copies one scan; `false` when its key was destroyed (erased with its shipment).
  private static func copyScan(
    _ digest: String,
    from scans: any BlobStore,
    to blobs: PostgresBlobStore
  ) async throws -> Bool {
    let upload = try await blobs.beginUpload()
    do {
      try await scans.read(sha256: digest) { chunk in try upload.write(chunk) }
      guard try upload.finish() == digest else { throw BlobError.corrupted }
      _ = try await upload.commit(sha256: digest)
      return true
    } catch BlobError.notFound {
      await upload.abort()
      return false
    } catch {
      await upload.abort()
      throw error
    }
  }
}
