import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// The citizens' service on the public listener.
struct TrackingService {
  let shipments: ShipmentService
  let ratings: RatingDesk
  let log: CustodyLog
  let clock: any WallClock
  let logger: Logger
}

extension TrackingService: Postalgateway_V1_TrackingService.SimpleServiceProtocol {
  /// Returns the citizen's view of a shipment when number and code match.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a malformed number or code; `NOT_FOUND` for an unknown
  ///   number or a wrong code alike; `RESOURCE_EXHAUSTED` with a retry delay after too many
  ///   failures for the number from this client's address (or while the number is slowed);
  ///   `UNAVAILABLE`.
  func trackShipment(
    request: Postalgateway_V1_TrackShipmentRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_TrackShipmentResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber.uppercased().filter { $0 != " " })
      }
      let code = v.check("verification_code") {
        try VerificationCode(parsing: request.verificationCode)
      }
      let language = v.check("language") { try CitizenLanguage(code: request.language) }
      try v.finish()
      // finish() threw if either is nil.
      let tracked = try await self.shipments.track(
        number!,
        code: code!,
        client: context.clientAddress,
        now: self.clock.now()
      )
      let leaves = try await self.log.leafIndexes(of: number!)
      return .with {
        $0.shipment = Postalgateway_V1_TrackedShipment(
          tracked,
          minutesPerDay: self.shipments.workingMinutesPerDay,
          // finish() threw if it is nil.
          wording: CitizenWording(language!)
        )
        $0.shipment.custodyLeafIndexes = leaves
      }
    }
  }
}
