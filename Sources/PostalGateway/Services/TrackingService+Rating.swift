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
      let (rating, complaint) = try await self.citizen.rate(
        request,
        client: context.clientAddress
      )
      return .with {
        $0.ratedAt = rating.ratedAt.proto
        $0.complaintOpened = complaint
      }
    }
  }
}
