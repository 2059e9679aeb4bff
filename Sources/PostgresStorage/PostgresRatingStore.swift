import Foundation
import Logging
public import Persistence
import PostgresNIO
public import Tracking

/// The ``RatingStore`` on PostgreSQL: one row per rated shipment (its number is the key, so
/// two replicas taking one shipment's rating at once keep one). The comment is sealed under
/// the shipment's data key, as on SQLite, and goes with an erasure.
public struct PostgresRatingStore: RatingStore {
  let pool: PostgresPool
  let rows: PostgresShipmentRows

  /// A store on a migrated database, opening comments with keys wrapped by `keys`.
  public init(pool: PostgresPool, keys: any KeyEncryptionKeys) {
    self.pool = pool
    self.rows = PostgresShipmentRows(records: SealedRecords(keys: keys), logger: pool.logger)
  }

  var logger: Logger { self.pool.logger }

  public func add(_ rating: ServiceRating, complaint: Bool) async throws {
    let number = rating.trackingNumber.rawValue
    do {
      try await self.pool.transaction { connection in
        var sealed: Data?
        if !rating.comment.isEmpty {
          guard let key = try await self.shipmentKey(number, on: connection) else {
            throw TrackingError(
              code: .failedPrecondition,
              message: "the shipment's personal data was erased; it can no longer be rated"
            )
          }
          sealed = try self.rows.records.seal(
            Data(rating.comment.utf8),
            context: SealedRecords.ratingContext(number),
            with: key
          )
        }
        try await connection.query(
          """
          INSERT INTO service_rating (tracking_number, rated_at, on_time, staff_attitude, trips,
            extra_costs_asked, overall, complaint_requested, complaint, sealed)
          VALUES (\(number), \(rating.ratedAt.microseconds), \(rating.onTime),
            \(rating.staffAttitude), \(rating.trips), \(rating.extraCostsAsked), \(rating.overall),
            \(rating.complaintRequested), \(complaint), \(sealed))
          """,
          logger: self.logger
        )
      }
    } catch let error as PSQLError where error.sqlState == "23505" {
      throw TrackingError(code: .duplicate, message: "this shipment has been rated already")
    }
  }

  public func rating(of number: TrackingNumber) async throws -> ServiceRating? {
    try await self.ratings(
      "SELECT * FROM service_rating WHERE tracking_number = \(number.rawValue)"
    ).first
  }

  public func complaints(limit: Int) async throws -> [ServiceRating] {
    try await self.ratings(
      """
      SELECT * FROM service_rating WHERE complaint
      ORDER BY rated_at DESC, tracking_number DESC LIMIT \(Int64(limit))
      """
    )
  }

  private func shipmentKey(
    _ number: String,
    on connection: PostgresConnection
  ) async throws -> SealedRecords.Key? {
    let rows = try await connection.query(
      "SELECT data_key_id FROM shipment WHERE tracking_number = \(number)",
      logger: self.logger
    )
    for try await id in rows.decode(Int64?.self) {
      return try await self.rows.key(id, on: connection)
    }
    return nil
  }

  private func ratings(_ query: PostgresQuery) async throws -> [ServiceRating] {
    try await self.pool.withConnection { connection in
      var found: [(ServiceRating, Data?)] = []
      for try await row in try await connection.query(query, logger: self.logger) {
        let c = Columns(row)
        found.append(
          (
            ServiceRating(
              trackingNumber: try TrackingNumber(validating: try c["tracking_number"]),
              ratedAt: Timestamp(microseconds: try c["rated_at"]),
              onTime: try c["on_time"],
              staffAttitude: try c["staff_attitude"],
              trips: try c["trips"],
              extraCostsAsked: try c["extra_costs_asked"],
              overall: try c["overall"],
              comment: "",
              complaintRequested: try c["complaint_requested"]
            ), try c["sealed", as: Data?.self]
          )
        )
      }
      var ratings: [ServiceRating] = []
      for (var rating, sealed) in found {
        let number = rating.trackingNumber.rawValue
        // Erased with the shipment's personal data: no comment.
        if let sealed, let key = try await self.shipmentKey(number, on: connection) {
          rating.comment = String(
            decoding: try self.rows.records.open(
              sealed,
              context: SealedRecords.ratingContext(number),
              with: key
            ),
            as: UTF8.self
          )
        }
        ratings.append(rating)
      }
      return ratings
    }
  }
}
