import GRPCCore
import Proto
import Tracking

extension TrackingService {
  /// The citizen chooses, with the code, whether and how to be told about the dossier.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND` (unknown number or wrong code);
  ///   `RESOURCE_EXHAUSTED` with a retry delay; `FAILED_PRECONDITION` once the personal data was
  ///   erased; `UNAVAILABLE`.
  func setNotificationChannel(
    request: Postalgateway_V1_CitizenNotificationRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_NotificationConsent {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let consent = try await self.citizen.changeNotificationChannel(
        CitizenRequest(
          trackingNumber: request.trackingNumber,
          verificationCode: request.verificationCode
        ),
        to: request.channel,
        client: context.clientAddress
      )
      return Postalgateway_V1_NotificationConsent(consent)
    }
  }
}
