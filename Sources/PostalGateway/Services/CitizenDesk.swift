import Foundation
import Proto
import SwiftProtobuf
import Tracking

/// A citizen's tracking number and verification code as typed, before validation.
struct CitizenRequest: Sendable {
  /// Spaces and case do not matter.
  var trackingNumber: String
  /// Case and dashes do not matter.
  var verificationCode: String
}

/// What citizens do, whatever the door they come through — the gRPC `TrackingService` and
/// `CustodyService.GetReceipt` on the public listener, the web page and its JSON API: one
/// validation, one domain call, one view (the wire `TrackedShipment`), one throttle.
struct CitizenDesk: Sendable {
  let shipments: ShipmentService
  let ratings: RatingDesk
  let log: CustodyLog
  let checkpointer: Checkpointer
  let verifierKey: String
  let clock: any WallClock

  /// The citizen's view of a shipment in a language (`vi`, `en`, empty for Vietnamese), with
  /// its custody-log leaves.
  /// - Parameter client: Where the attempt comes from, for the throttle.
  /// - Throws: ``TrackingError`` `.invalidArgument` naming `tracking_number`,
  ///   `verification_code` or `language`; `.notFound` for an unknown number or a wrong code;
  ///   `.throttled`; `.storageFailure`.
  func track(
    _ request: CitizenRequest,
    language: String,
    client: String
  ) async throws -> Postalgateway_V1_TrackShipmentResponse {
    var v = RequestValidator()
    let (number, code) = Self.credentials(request, &v)
    let language = v.check("language") { try CitizenLanguage(code: language) }
    try v.finish()
    // finish() threw if any is nil.
    let tracked = try await self.shipments.track(
      number!,
      code: code!,
      client: client,
      now: self.clock.now()
    )
    let leaves = try await self.log.leafIndexes(of: number!)
    return .with {
      $0.shipment = Postalgateway_V1_TrackedShipment(
        tracked,
        minutesPerDay: self.shipments.workingMinutesPerDay,
        wording: CitizenWording(language!)
      )
      $0.shipment.custodyLeafIndexes = leaves
    }
  }

  /// The citizen chooses, with the code, whether and how to be told about the dossier.
  /// - Throws: ``TrackingError`` as ``track(_:language:client:)``, `.invalidArgument` naming
  ///   `channel`, `.failedPrecondition` once the personal data was erased.
  func changeNotificationChannel(
    _ request: CitizenRequest,
    to channel: Postalgateway_V1_NotificationChannel,
    client: String
  ) async throws -> NotificationConsent {
    var v = RequestValidator()
    let (number, code) = Self.credentials(request, &v)
    let channel = v.check("channel") { try NotificationChannel(channel) }
    try v.finish()
    // finish() threw if any is nil.
    return try await self.shipments.changeNotificationChannel(
      number!,
      code: code!,
      client: client,
      to: channel!,
      now: self.clock.now()
    )
  }

  /// The citizen rates the service, with the code, once the shipment is delivered or its
  /// papers returned (the wire request's fields; its number and code are validated here).
  /// - Returns: The rating as kept, and whether it opened a complaint.
  /// - Throws: ``TrackingError`` as ``track(_:language:client:)``, `.invalidArgument` naming the
  ///   field, `.failedPrecondition` before delivery, `.duplicate` for a second rating.
  func rate(
    _ request: Postalgateway_V1_RateServiceRequest,
    client: String
  ) async throws -> (rating: ServiceRating, complaint: Bool) {
    var v = RequestValidator()
    let (number, code) = Self.credentials(
      CitizenRequest(
        trackingNumber: request.trackingNumber,
        verificationCode: request.verificationCode
      ),
      &v
    )
    try v.finish()
    let now = self.clock.now()
    // finish() threw if either is nil.
    return try await self.ratings.rate(
      ServiceRating(
        trackingNumber: number!,
        ratedAt: now,
        onTime: request.onTime,
        staffAttitude: Int(request.staffAttitude),
        trips: Int(request.trips),
        extraCostsAsked: request.extraCostsAsked,
        overall: Int(request.overall),
        comment: request.comment,
        complaintRequested: request.complaint
      ),
      code: code!,
      client: client,
      now: now
    )
  }

  /// The shipment's rating, if any: for a page that has just checked the code.
  func rating(of number: String) async throws -> ServiceRating? {
    try await self.ratings.rating(of: TrackingNumber(validating: number))
  }

  /// The channels a citizen may choose here.
  var offeredChannels: [NotificationChannel] { self.shipments.offeredChannels }

  /// The shipment's entries with inclusion proofs against a signed checkpoint that covers them
  /// all, and its salt: a receipt that verifies offline.
  /// - Throws: ``TrackingError`` as ``track(_:language:client:)``.
  func receipt(_ request: CitizenRequest, client: String) async throws -> Postalgateway_V1_Receipt {
    var v = RequestValidator()
    let (number, code) = Self.credentials(request, &v)
    try v.finish()
    // finish() threw if either is nil.
    let stored = try await self.shipments.authenticateCitizen(
      number!,
      code: code!,
      client: client,
      now: self.clock.now()
    )
    let indexes = try await self.log.leafIndexes(of: number!)
    let covering = (indexes.max() ?? -1) + 1
    let signed = try await self.checkpointer.checkpoint(covering: covering, clock: self.clock)
    var entries: [Postalgateway_V1_ReceiptEntry] = []
    for index in indexes {
      guard let leaf = try await self.log.entries(start: index, count: 1).first else {
        throw TrackingError(
          code: .storageFailure,
          message: "the log is missing a leaf",
          underlying: "leaf \(index)"
        )
      }
      let proof = try await self.log.inclusionProof(index: index, size: signed.checkpoint.size)
      entries.append(
        .with {
          $0.leafIndex = index
          $0.data = Data(leaf)
          $0.inclusionProof = proof.map { Data($0) }
        }
      )
    }
    return .with {
      $0.format = "postalgateway-receipt-v1"
      $0.checkpoint = signed.note
      $0.trackingNumber = stored.shipment.trackingNumber.rawValue
      $0.shipmentSalt = Data(stored.custodySalt)
      $0.entries = entries
      $0.verifierKey = self.verifierKey
    }
  }

  private static func credentials(
    _ request: CitizenRequest,
    _ v: inout RequestValidator
  ) -> (TrackingNumber?, VerificationCode?) {
    let number = v.check("tracking_number") {
      try TrackingNumber(validating: request.trackingNumber.uppercased().filter { $0 != " " })
    }
    let code = v.check("verification_code") {
      try VerificationCode(parsing: request.verificationCode)
    }
    return (number, code)
  }
}
