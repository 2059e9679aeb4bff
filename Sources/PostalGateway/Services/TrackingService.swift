import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// The citizens' service on the public listener.
struct TrackingService {
  let citizen: CitizenDesk
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
      try await self.citizen.track(
        CitizenRequest(
          trackingNumber: request.trackingNumber,
          verificationCode: request.verificationCode
        ),
        language: request.language,
        client: context.clientAddress
      )
    }
  }
}
