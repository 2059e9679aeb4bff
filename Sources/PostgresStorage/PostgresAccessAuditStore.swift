import Foundation
import PostgresNIO
public import Tracking

/// The ``AccessAuditStore`` on PostgreSQL: one row per read of unmasked personal data, numbered
/// by the database (a sequence: every replica's reads in one list, newest first); triggers
/// refuse any update, delete or truncate.
public struct PostgresAccessAuditStore: AccessAuditStore {
  let pool: PostgresPool

  /// A store on a migrated database.
  public init(pool: PostgresPool) {
    self.pool = pool
  }

  public func append(_ records: [AccessRecord]) async throws {
    guard !records.isEmpty else { return }
    try await self.pool.transaction { connection in
      for record in records {
        try await connection.query(
          """
          INSERT INTO access_audit (at, actor, tracking_number, read, purpose, document_code)
          VALUES (\(record.at.microseconds), \(record.actor), \(record.trackingNumber.rawValue),
            \(record.read.rawValue), \(record.purpose), \(record.documentCode))
          """,
          logger: self.pool.logger
        )
      }
    }
  }

  public func records(matching query: AccessQuery) async throws -> [AccessRecord] {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT sequence, at, actor, tracking_number, read, purpose, document_code
        FROM access_audit
        WHERE (\(query.trackingNumber?.rawValue)::text IS NULL
            OR tracking_number = \(query.trackingNumber?.rawValue))
          AND (\(query.actor)::text IS NULL OR actor = \(query.actor))
          AND (\(query.before)::bigint IS NULL OR sequence < \(query.before))
        ORDER BY sequence DESC LIMIT \(Int64(query.limit))
        """,
        logger: self.pool.logger
      )
      var records: [AccessRecord] = []
      for try await (sequence, at, actor, number, read, purpose, documentCode) in rows.decode(
        (Int64, Int64, String, String, String, String, String?).self
      ) {
        guard let read = PersonalDataRead(rawValue: read) else {
          throw TrackingError(
            code: .storageFailure,
            message: "access audit row \(sequence) has an unknown read"
          )
        }
        records.append(
          AccessRecord(
            sequence: sequence,
            at: Timestamp(microseconds: at),
            actor: actor,
            trackingNumber: try TrackingNumber(validating: number),
            read: read,
            purpose: purpose,
            documentCode: documentCode
          )
        )
      }
      return records
    }
  }
}
