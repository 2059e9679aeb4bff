public import Foundation
import GRDB
public import Tracking

/// One stored value as SQLite holds it, for copying a database elsewhere.
public enum ExportedValue: Sendable, Hashable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob(Data)
}

/// Reads a gateway's SQLite database table by table, in key order and in pages, from one
/// snapshot (for `db copy`: the stores stay open and consistent while it reads).
public struct SQLiteExport: Sendable {
  let database: SQLiteDatabase

  /// The export of the stores `SQLiteStorage.open` returned.
  /// - Returns: `nil` for stores of another backend.
  public init?(of stores: Stores) {
    guard let shipments = stores.shipments as? SQLiteShipmentStore else { return nil }
    self.database = shipments.database
  }

  /// The column names of a table.
  public func columns(of table: String) throws -> [String] {
    try self.database.pool.read { db in try db.columns(in: table).map(\.name) }
  }

  /// Every row `select` returns, in pages of `pageSize`, each page given to `body` (all pages
  /// from one snapshot).
  /// - Parameter select: A `SELECT` of this build's own (not user input) with an `ORDER BY` on
  ///   a key, without `LIMIT`.
  public func rows(
    _ select: String,
    pageSize: Int = 1000,
    _ body: ([[ExportedValue]]) async throws -> Void
  ) async throws {
    // One snapshot across pages: writes meanwhile are not seen, no page is read twice.
    let snapshot = try self.database.pool.makeSnapshot()
    var offset = 0
    while true {
      let start = offset
      let page = try await snapshot.read { db -> [[ExportedValue]] in
        try Row.fetchAll(db, sql: "\(select) LIMIT ? OFFSET ?", arguments: [pageSize, start])
          .map { row in row.databaseValues.map(Self.exported) }
      }
      if page.isEmpty { return }
      try await body(page)
      offset += page.count
    }
  }

  private static func exported(_ value: DatabaseValue) -> ExportedValue {
    switch value.storage {
    case .null: .null
    case .int64(let number): .integer(number)
    case .double(let number): .real(number)
    case .string(let text): .text(text)
    case .blob(let data): .blob(data)
    }
  }

  /// The stored scans' digests (each readable through the stores' blob store).
  public func scanDigests() throws -> [String] {
    try self.database.pool.read { db in
      try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM scan_document ORDER BY sha256")
    }
  }
}
