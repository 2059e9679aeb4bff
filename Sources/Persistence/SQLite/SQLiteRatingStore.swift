import GRDB
public import Tracking

/// The ``RatingStore`` on SQLite: one row per rated shipment (its number is the key).
public final class SQLiteRatingStore: RatingStore {
  let database: SQLiteDatabase

  init(database: SQLiteDatabase) {
    self.database = database
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
      try db.cachedStatement(
        sql: """
          INSERT INTO service_rating (tracking_number, rated_at, on_time, staff_attitude, trips,
            extra_costs_asked, overall, comment, complaint_requested, complaint)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """
      ).execute(
        arguments: [
          rating.trackingNumber.rawValue, rating.ratedAt.microseconds, rating.onTime,
          rating.staffAttitude, rating.trips, rating.extraCostsAsked, rating.overall,
          rating.comment, rating.complaintRequested, complaint,
        ]
      )
    }
  }

  public func rating(of number: TrackingNumber) async throws -> ServiceRating? {
    try await self.database.read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT * FROM service_rating WHERE tracking_number = ?"),
        arguments: [number.rawValue]
      ).map(Self.decode)
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
      ).map(Self.decode)
    }
  }

  static func decode(_ row: Row) throws -> ServiceRating {
    ServiceRating(
      trackingNumber: try TrackingNumber(validating: row["tracking_number"]),
      ratedAt: Timestamp(microseconds: row["rated_at"]),
      onTime: row["on_time"],
      staffAttitude: row["staff_attitude"],
      trips: row["trips"],
      extraCostsAsked: row["extra_costs_asked"],
      overall: row["overall"],
      comment: row["comment"],
      complaintRequested: row["complaint_requested"]
    )
  }
}
