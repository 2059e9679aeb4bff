/// A citizen's rating of the postal service for one shipment, along the criteria of NĐ 61/2018
/// art. 31 that fit a delivery: the time against the appointment, the staff's attitude, the
/// trips it took, extra costs asked for, and an overall mark. Stored with the shipment's number
/// only: no name, no identity.
public struct ServiceRating: Hashable, Sendable {
  /// The shipment.
  public var trackingNumber: TrackingNumber
  /// When it was given.
  public var ratedAt: Timestamp
  /// Whether the result (or the returned papers) came by the appointment.
  public var onTime: Bool
  /// The staff's attitude, 1 (bad) to 5 (very good).
  public var staffAttitude: Int
  /// How many times the citizen had to go or wait in for it, 0–20.
  public var trips: Int
  /// Whether anyone asked for money beyond the receipt.
  public var extraCostsAsked: Bool
  /// Overall, 1 (very dissatisfied) to 5 (very satisfied).
  public var overall: Int
  /// The citizen's words (at most 1,000 characters; may be empty).
  public var comment: String
  /// Whether the citizen files it as a complaint.
  public var complaintRequested: Bool

  /// Creates a rating.
  public init(
    trackingNumber: TrackingNumber,
    ratedAt: Timestamp,
    onTime: Bool,
    staffAttitude: Int,
    trips: Int,
    extraCostsAsked: Bool,
    overall: Int,
    comment: String,
    complaintRequested: Bool
  ) {
    self.trackingNumber = trackingNumber
    self.ratedAt = ratedAt
    self.onTime = onTime
    self.staffAttitude = staffAttitude
    self.trips = trips
    self.extraCostsAsked = extraCostsAsked
    self.overall = overall
    self.comment = comment
    self.complaintRequested = complaintRequested
  }

  /// Whether it opens a case for the oversight office: asked for, an overall mark at or below
  /// `threshold`, or extra costs asked (a charge outside the receipt is what QĐ 45/2016 forbids).
  public func opensComplaint(threshold: Int) -> Bool {
    self.complaintRequested || self.overall <= threshold || self.extraCostsAsked
  }
}

/// Ratings and the complaint cases they open.
public protocol RatingStore: Sendable {
  /// Stores a rating, and its complaint case when `complaint` is true, in one transaction.
  /// - Throws: ``TrackingError`` `.duplicate` when the shipment was rated before;
  ///   `.storageFailure`.
  func add(_ rating: ServiceRating, complaint: Bool) async throws
  /// The shipment's rating, if it has one.
  func rating(of number: TrackingNumber) async throws -> ServiceRating?
  /// Ratings that opened a complaint, newest first, at most `limit`.
  func complaints(limit: Int) async throws -> [ServiceRating]
}

/// Takes citizens' ratings: only the holder of the verification code, only once the shipment
/// is delivered or its papers returned, only once.
public struct RatingDesk: Sendable {
  /// The overall mark at or below which a rating opens a complaint.
  public static let complaintThreshold = 2

  private let shipments: ShipmentService
  private let store: any RatingStore

  /// A desk over the shipments and the ratings' store.
  public init(shipments: ShipmentService, store: any RatingStore) {
    self.shipments = shipments
    self.store = store
  }

  /// Checks and stores a rating.
  /// - Parameters:
  ///   - rating: What the citizen gave (its `ratedAt` is replaced by `now`).
  ///   - code: The citizen's verification code.
  ///   - client: The client's address, for the tracking throttle.
  /// - Returns: The rating and whether it opened a complaint.
  /// - Throws: ``TrackingError``: `.invalidArgument` naming the field; `.notFound` (unknown
  ///   number or wrong code alike); `.throttled`; `.failedPrecondition` before delivery;
  ///   `.duplicate` for a second rating; `.storageFailure`.
  public func rate(
    _ rating: ServiceRating,
    code: VerificationCode,
    client: String,
    now: Timestamp
  ) async throws -> (rating: ServiceRating, complaint: Bool) {
    try Self.check(rating)
    let stored = try await self.shipments.authenticateCitizen(
      rating.trackingNumber,
      code: code,
      client: client,
      now: now
    )
    guard [.delivered, .returnedToApplicant].contains(stored.shipment.state) else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "a shipment can be rated once it is delivered or its papers returned"
      )
    }
    var rating = rating
    rating.ratedAt = now
    let complaint = rating.opensComplaint(threshold: Self.complaintThreshold)
    try await self.store.add(rating, complaint: complaint)
    return (rating, complaint)
  }

  /// The rating of a shipment, if it was rated (for a caller that already checked the code).
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func rating(of number: TrackingNumber) async throws -> ServiceRating? {
    try await self.store.rating(of: number)
  }

  /// Ratings that opened a complaint, newest first.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  public func complaints(limit: Int) async throws -> [ServiceRating] {
    try await self.store.complaints(limit: limit)
  }

  static func check(_ rating: ServiceRating) throws {
    var violations: [TrackingError.FieldViolation] = []
    if !(1 ... 5).contains(rating.staffAttitude) {
      violations.append(.init(field: "staff_attitude", reason: "must be 1–5"))
    }
    if !(1 ... 5).contains(rating.overall) {
      violations.append(.init(field: "overall", reason: "must be 1–5"))
    }
    if !(0 ... 20).contains(rating.trips) {
      violations.append(.init(field: "trips", reason: "must be 0–20"))
    }
    if rating.comment.count > 1000 {
      violations.append(.init(field: "comment", reason: "must be at most 1,000 characters"))
    }
    if !violations.isEmpty { throw TrackingError.invalidArgument(violations) }
  }
}
