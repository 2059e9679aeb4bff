import Foundation
import GRDB
public import Tracking

/// The ``RatingStore`` on SQLite: one row per rated shipment (its number is the key).
public final class SQLiteRatingStore: RatingStore {
  let database: SQLiteDatabase
  let cipher: FieldCipher

  init(database: SQLiteDatabase, cipher: FieldCipher) {
    self.database = database
    self.cipher = cipher
  }

  public func add(_ rating: ServiceRating, complaint: Bool) async throws {
    try await self.database.write { db in
      let exists = try Bool.fetchOne(
        db.cachedStatement(sql: "SELECT 1 FROM service_rating WHERE tracking_number = ?"),
        arguments: [rating.trackingNumber.rawValue]
      )
      guard exists == nil else {
        throw TrackingError(code: .duplicate, message: "this shipment has been rated already")
      }
      // The comment is free text a citizen may put a name or number in: sealed under the
      // shipment's data key, so it goes with the shipment's personal data.
      var sealed: Data?
      if !rating.comment.isEmpty {
        guard let key = try self.shipmentKey(rating.trackingNumber.rawValue, in: db) else {
          throw TrackingError(
            code: .failedPrecondition,
            message: "the shipment's personal data was erased; it can no longer be rated"
          )
        }
        sealed = try self.cipher.seal(
          Data(rating.comment.utf8),
          with: key,
          context: Self.context(rating.trackingNumber.rawValue)
        )
      }
      try db.cachedStatement(
        sql: """
          INSERT INTO service_rating (tracking_number, rated_at, on_time, staff_attitude, trips,
            extra_costs_asked, overall, comment, complaint_requested, complaint, sealed)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          rating.trackingNumber.rawValue, rating.ratedAt.microseconds, rating.onTime,
          rating.staffAttitude, rating.trips, rating.extraCostsAsked, rating.overall,
          "", rating.complaintRequested, complaint, sealed,
        ]
      )
    }
  }

  public func rating(of number: TrackingNumber) async throws -> ServiceRating? {
    try await self.database.read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT * FROM service_rating WHERE tracking_number = ?"),
        arguments: [number.rawValue]
      ).map { try self.decode($0, in: db) }
    }
  }

  public func complaints(limit: Int) async throws -> [ServiceRating] {
    try await self.database.read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql:
            "SELECT * FROM service_rating WHERE complaint = 1 ORDER BY rated_at DESC, tracking_number DESC LIMIT ?"
        ),
        arguments: [limit]
      ).map { try self.decode($0, in: db) }
    }
  }

  private func shipmentKey(_ number: String, in db: Database) throws -> DataKey? {
    guard
      let id = try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT data_key_id FROM shipment WHERE tracking_number = ?"),
        arguments: [number]
      )
    else { return nil }
    return try self.cipher.key(id, in: db)
  }

  static func context(_ number: String) -> String { "rating \(number)" }

  func decode(_ row: Row, in db: Database) throws -> ServiceRating {
    let number: String = row["tracking_number"]
    var comment: String = row["comment"]
    if let sealed = row["sealed"] as Data? {
      // Erased with the shipment's personal data: no comment.
      comment =
        try self.shipmentKey(number, in: db).map {
          String(
            decoding: try self.cipher.open(sealed, with: $0, context: Self.context(number)),
            as: UTF8.self
          )
        } ?? ""
    }
    return ServiceRating(
      trackingNumber: try TrackingNumber(validating: number),
      ratedAt: Timestamp(microseconds: row["rated_at"]),
      onTime: row["on_time"],
      staffAttitude: row["staff_attitude"],
      trips: row["trips"],
      extraCostsAsked: row["extra_costs_asked"],
      overall: row["overall"],
      comment: comment,
      complaintRequested: row["complaint_requested"]
    )
  }
}
