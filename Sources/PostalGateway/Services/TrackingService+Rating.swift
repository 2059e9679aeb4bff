import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension TrackingService {
  /// The citizen's rating of a delivered shipment.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND` (unknown number or wrong code);
  ///   `RESOURCE_EXHAUSTED` with a retry delay; `FAILED_PRECONDITION` before delivery;
  ///   `ALREADY_EXISTS` for a second rating; `UNAVAILABLE`.
  func rateService(
    request: Postalgateway_V1_RateServiceRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RateServiceResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber.uppercased().filter { $0 != " " })
      }
      let code = v.check("verification_code") {
        try VerificationCode(parsing: request.verificationCode)
      }
      try v.finish()
      let now = self.clock.now()
      // finish() threw if either is nil.
      let (rating, complaint) = try await self.ratings.rate(
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
        client: context.clientAddress,
        now: now
      )
      return .with {
        $0.ratedAt = rating.ratedAt.proto
        $0.complaintOpened = complaint
      }
    }
  }
}
