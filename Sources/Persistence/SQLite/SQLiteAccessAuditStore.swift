import GRDB
public import Tracking

/// The ``AccessAuditStore`` on SQLite: one row per read, numbered by SQLite; triggers refuse
/// any update or delete.
public final class SQLiteAccessAuditStore: AccessAuditStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
  }

  public func append(_ records: [AccessRecord]) async throws {
    try await self.database.write { db in
      let insert = try db.cachedStatement(
        sql: """
          INSERT INTO access_audit (at, actor, tracking_number, read, purpose, document_code)
          VALUES (?, ?, ?, ?, ?, ?)
          """
      )
      for record in records {
        try insert.execute(
          arguments: [
            record.at.microseconds, record.actor, record.trackingNumber.rawValue,
            record.read.rawValue, record.purpose, record.documentCode,
          ]
        )
      }
    }
  }

  public func records(matching query: AccessQuery) async throws -> [AccessRecord] {
    var conditions: [String] = []
    var arguments: StatementArguments = []
    if let number = query.trackingNumber {
      conditions.append("tracking_number = ?")
      arguments += [number.rawValue]
    }
    if let actor = query.actor {
      conditions.append("actor = ?")
      arguments += [actor]
    }
    if let before = query.before {
      conditions.append("sequence < ?")
      arguments += [before]
    }
    arguments += [query.limit]
    let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    let sql = """
      SELECT sequence, at, actor, tracking_number, read, purpose, document_code
      FROM access_audit \(filter) ORDER BY sequence DESC LIMIT ?
      """
    let bound = arguments
    return try await self.database.read { db in
      try Row.fetchAll(db.cachedStatement(sql: sql), arguments: bound).map { row in
        guard let read = PersonalDataRead(rawValue: row["read"]) else {
          throw TrackingError(
            code: .storageFailure,
            message: "access audit row \(row["sequence"] as Int64) has an unknown read"
          )
        }
        return AccessRecord(
          sequence: row["sequence"],
          at: Timestamp(microseconds: row["at"]),
          actor: row["actor"],
          trackingNumber: try TrackingNumber(validating: row["tracking_number"]),
          read: read,
          purpose: row["purpose"],
          documentCode: row["document_code"]
        )
      }
    }
  }
}
